using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// The bundled schema relabelled 0 legitimate, 1 phishing (listed in value order), and the first 1,200 rows of the data
/// set with their labels rewritten to match: the case that inverted every verdict, and that peers.py scored backwards.
/// </summary>
internal static class ZeroOneLabels
{
    public static (string Schema, string Data) Write(TempDirectory dir)
    {
        var schema = dir.File("schema01.yaml", File.ReadAllText(TestPaths.SchemaFile).Replace(
            "    - value: -1\n      name: phishing\n    - value: 1\n      name: legitimate\n",
            "    - value: 0\n      name: legitimate\n    - value: 1\n      name: phishing\n", StringComparison.Ordinal));
        var data = dir.File("one-is-phishing.csv", string.Join('\n', File.ReadLines(TestPaths.DataFile).Take(1201)
            .Select((l, i) => i == 0 ? l : l[..l.LastIndexOf(',')] + (l.EndsWith(",-1", StringComparison.Ordinal) ? ",1" : ",0"))));
        return (schema, data);
    }
}
