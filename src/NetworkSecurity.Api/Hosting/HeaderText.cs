using System.Globalization;
using System.Text;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Text that goes into a response header. Kestrel throws on a header value with a non-ASCII or control character, so a
/// feature named "Länge" (X-Empty-Features) or a model folder under /srv/modèles (X-Model-Origin) turned the whole answer
/// into a 500. Such characters, and '%' so that every value decodes one way, are percent-encoded as UTF-8, as in a URL
/// (Länge → L%C3%A4nge); other text is kept as it is.
/// </summary>
public static class HeaderText
{
    public static string Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.AsSpan().ContainsAnyExceptInRange(' ', '~') && !text.Contains('%', StringComparison.Ordinal))
        {
            return text; // the usual value: nothing to do
        }

        var encoded = new StringBuilder(text.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is >= ' ' and <= '~' and not '%')
            {
                encoded.Append(c);
                continue;
            }

            // A surrogate pair is one character, four UTF-8 bytes (a lone surrogate becomes U+FFFD's three).
            var pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var count = Encoding.UTF8.GetBytes(text.AsSpan(i, pair ? 2 : 1), utf8);
            i += pair ? 1 : 0;
            foreach (var b in utf8[..count])
            {
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }
}
