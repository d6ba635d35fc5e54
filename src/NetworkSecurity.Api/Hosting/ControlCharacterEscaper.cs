using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Escapes line breaks and other control characters in the text values of a log event (\n, \u001b, …): a request path
/// such as <c>/x%0A2026-01-01 … [ERR] …</c> is decoded by the server, and was written as a second, forged log line.
/// Used for the request log, whose values come from the client; the service's own messages keep their line breaks
/// (the leaderboard table, the list of bad records).
/// </summary>
public sealed class ControlCharacterEscaper : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? escaped = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (value is ScalarValue { Value: string text } && NeedsEscaping(text))
            {
                (escaped ??= []).Add(new LogEventProperty(name, new ScalarValue(Escape(text))));
            }
        }

        // Replaced after the loop: the properties cannot change while they are read.
        foreach (var property in escaped ?? [])
        {
            logEvent.AddOrUpdateProperty(property);
        }
    }

    private static bool NeedsEscaping(string text)
    {
        foreach (var c in text)
        {
            if (IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    internal static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                _ when IsControl(c) => builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }
}
