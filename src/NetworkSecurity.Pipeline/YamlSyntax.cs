namespace NetworkSecurity.Pipeline;

/// <summary>
/// Where a YAML text goes wrong when the parser cannot say: YamlDotNet gives up on an unclosed flow list or map
/// (<c>[20, 40</c> with no <c>]</c>) with an InvalidOperationException that names no line.
/// </summary>
public static class YamlSyntax
{
    /// <summary>"line N: the list opened with '[' is not closed" for the first bracket left open (or closed unopened); null when they pair up.</summary>
    public static string? FirstUnbalancedBracket(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var open = new Stack<(char Bracket, int Line)>();
        var lines = yaml.Split('\n');
        for (var l = 0; l < lines.Length; l++)
        {
            char? quote = null;
            var line = lines[l];
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                if (quote is { } q)
                {
                    quote = c == q ? null : quote;
                }
                else if (c is '\'' or '"')
                {
                    quote = c;
                }
                else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
                {
                    break; // a comment
                }
                else if (c is '[' or '{')
                {
                    open.Push((c, l + 1));
                }
                else if (c is ']' or '}')
                {
                    if (open.Count == 0 || open.Pop().Bracket != (c == ']' ? '[' : '{'))
                    {
                        return $"line {l + 1}: '{c}' closes nothing that was opened";
                    }
                }
            }
        }

        if (open.Count == 0)
        {
            return null;
        }

        var first = open.Last(); // the outermost, opened first
        return $"line {first.Line}: the {(first.Bracket == '[' ? "list" : "map")} opened with '{first.Bracket}' is not closed";
    }
}
