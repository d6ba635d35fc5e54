using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NetworkSecurity.Tracking;

/// <summary>
/// Writes a string as the value of a YAML mapping the way MLflow's write_yaml does (PyYAML safe_dump, allow_unicode):
/// plain when PyYAML would write it plain (<c>name: NetworkSecurity</c>), single-quoted when the plain form would read
/// back as another type or is not allowed (<c>experiment_id: '0'</c>, <c>name: 'yes'</c>), double-quoted with escapes
/// for control characters and line breaks. Lines are not folded at 80 characters as PyYAML does; readers see the same value.
/// </summary>
public static partial class PyYamlScalar
{
    public static string Format(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var (plain, singleQuoted) = Analyze(value);
        if (plain && !ResolvesToAnotherType(value))
        {
            return value;
        }

        return singleQuoted ? "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'" : DoubleQuoted(value);
    }

    // PyYAML's Emitter.analyze_scalar, for a block mapping value.
    private static (bool Plain, bool SingleQuoted) Analyze(string scalar)
    {
        if (scalar.Length == 0)
        {
            return (false, true);
        }

        var blockIndicators = scalar.StartsWith("---", StringComparison.Ordinal) || scalar.StartsWith("...", StringComparison.Ordinal);
        bool leadingSpace = false, trailingSpace = false, lineBreaks = false, special = false, spaceBreak = false, breakSpace = false;
        bool previousSpace = false, previousBreak = false;
        var precededByWhitespace = true;
        var followedByWhitespace = scalar.Length == 1 || IsWhitespaceOrEnd(scalar[1]);
        for (var index = 0; index < scalar.Length; index++)
        {
            var ch = scalar[index];
            if (index == 0)
            {
                if ("#,[]{}&*!|>'\"%@`".Contains(ch, StringComparison.Ordinal) || (ch is '?' or ':' or '-' && followedByWhitespace))
                {
                    blockIndicators = true;
                }
            }
            else if ((ch == ':' && followedByWhitespace) || (ch == '#' && precededByWhitespace))
            {
                blockIndicators = true;
            }

            if (ch is '\n' or '\u0085' or '\u2028' or '\u2029')
            {
                lineBreaks = true;
            }

            if (!(ch == '\n' || (ch >= '\x20' && ch <= '\x7E')))
            {
                // Printable non-ASCII is kept as is (allow_unicode); anything else forces double quotes.
                var printable = ch == '\u0085' || (ch >= '\xA0' && ch <= '\uD7FF') || (ch >= '\uE000' && ch <= '\uFFFD') || char.IsSurrogate(ch);
                if (!printable || ch == '\uFEFF')
                {
                    special = true;
                }
            }

            if (ch == ' ')
            {
                leadingSpace |= index == 0;
                trailingSpace |= index == scalar.Length - 1;
                breakSpace |= previousBreak;
                previousSpace = true;
                previousBreak = false;
            }
            else if (ch is '\n' or '\u0085' or '\u2028' or '\u2029')
            {
                spaceBreak |= previousSpace;
                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }

            precededByWhitespace = IsWhitespaceOrEnd(ch);
            followedByWhitespace = index + 1 >= scalar.Length - 1 || IsWhitespaceOrEnd(scalar[index + 2]);
        }

        var plain = !(leadingSpace || trailingSpace || lineBreaks || special || spaceBreak || breakSpace || blockIndicators);
        // Line breaks are written double-quoted here (PyYAML folds them inside single quotes): the value reads back the same.
        var singleQuoted = !(special || spaceBreak || breakSpace || lineBreaks);
        return (plain, singleQuoted);
    }

    private static bool IsWhitespaceOrEnd(char ch) => ch is '\0' or ' ' or '\t' or '\r' or '\n' or '\u0085' or '\u2028' or '\u2029';

    // PyYAML's implicit resolvers (YAML 1.1): a plain scalar matching one would read back as a bool, number, null,
    // timestamp, merge key or value key instead of a string, so PyYAML quotes it.
    private static bool ResolvesToAnotherType(string value) =>
        BoolPattern().IsMatch(value) || IntPattern().IsMatch(value) || FloatPattern().IsMatch(value) || NullPattern().IsMatch(value)
        || TimestampPattern().IsMatch(value) || value is "<<" or "=";

    // PyYAML's write_double_quoted escapes (allow_unicode: printable non-ASCII stays as is).
    private static string DoubleQuoted(string value)
    {
        var builder = new StringBuilder("\"");
        foreach (var ch in value)
        {
            var printable = (ch >= '\x20' && ch <= '\x7E') || (ch >= '\xA0' && ch <= '\uD7FF') || (ch >= '\uE000' && ch <= '\uFFFD') || char.IsSurrogate(ch);
            builder.Append(ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\0' => "\\0",
                '\a' => "\\a",
                '\b' => "\\b",
                '\t' => "\\t",
                '\n' => "\\n",
                '\v' => "\\v",
                '\f' => "\\f",
                '\r' => "\\r",
                '\x1B' => "\\e",
                '\u0085' => "\\N",
                '\u2028' => "\\L",
                '\u2029' => "\\P",
                _ when !printable || ch == '\uFEFF' => ch <= '\xFF'
                    ? "\\x" + ((int)ch).ToString("X2", CultureInfo.InvariantCulture)
                    : "\\u" + ((int)ch).ToString("X4", CultureInfo.InvariantCulture),
                _ => ch.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }

    [GeneratedRegex("^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex BoolPattern();

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();

    [GeneratedRegex("^(?:~|null|Null|NULL)$")]
    private static partial Regex NullPattern();

    [GeneratedRegex(@"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$")]
    private static partial Regex TimestampPattern();
}
