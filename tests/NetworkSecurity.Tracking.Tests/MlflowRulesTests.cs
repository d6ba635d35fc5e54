namespace NetworkSecurity.Tracking.Tests;

/// <summary>MLflow's key rule and PyYAML's scalar quoting, against MLflow's validation.py and PyYAML 6 itself.</summary>
public sealed class MlflowRulesTests
{
    [Theory]
    [InlineData("test_f1", true)]
    [InlineData("model.max_depth", true)]
    [InlineData("a/b", true)]
    [InlineData("a b", true)]
    [InlineData("roc:auc", true)] // MLflow allows colons (except on Windows)
    [InlineData("précision", true)] // Python's \w is Unicode
    [InlineData("检测/f1", true)]
    [InlineData("x..y", true)]
    [InlineData(".hidden", true)]
    [InlineData("a//b", false)]
    [InlineData("/a", false)]
    [InlineData("a/", false)]
    [InlineData("a/./b", false)]
    [InlineData("a/../b", false)]
    [InlineData("../x", false)]
    [InlineData("..x", false)] // normpath keeps it, but it starts with ".."
    [InlineData(".", false)]
    [InlineData("f1%", false)]
    [InlineData("a\tb", false)]
    [InlineData("", false)]
    public void Key_rules_are_mlflows(string key, bool valid) => Assert.Equal(valid, MlflowRules.IsValidKey(key));

    [Fact]
    public void Key_length_is_counted_in_code_points_up_to_250()
    {
        Assert.True(MlflowRules.IsValidKey(new string('k', 250)));
        Assert.False(MlflowRules.IsValidKey(new string('k', 251)));
        Assert.True(MlflowRules.IsValidKey(string.Concat(Enumerable.Repeat("𝔁", 250)))); // 500 UTF-16 units, 250 characters
    }

    [Fact]
    public void Long_values_are_truncated_by_code_points_as_mlflow_truncates_them()
    {
        var value = string.Concat(Enumerable.Repeat("𝔁", 6001));
        var truncated = MlflowRules.Truncate(value, MlflowRules.MaxParamValueLength);
        Assert.Equal(6000, truncated.EnumerateRunes().Count());
        Assert.Equal(12000, truncated.Length);
    }

    [Theory]
    [InlineData("", "the experiment name is empty")]
    [InlineData("NetworkSecurity", null)]
    public void Experiment_names_follow_mlflows_rule(string name, string? problem)
    {
        Assert.Equal(problem, MlflowRules.ExperimentNameProblem(name)?.Split(" (")[0]);
        Assert.NotNull(MlflowRules.ExperimentNameProblem(new string('n', 501)));
        Assert.Null(MlflowRules.ExperimentNameProblem(new string('n', 500)));
    }

    [Theory]
    [InlineData("a//b", "a/b")]
    [InlineData("//a", "//a")]
    [InlineData("///a", "/a")]
    [InlineData("a/../..", "..")]
    [InlineData("./a/", "a")]
    [InlineData("", ".")]
    public void Paths_normalise_like_pythons_posixpath(string path, string normalized) => Assert.Equal(normalized, MlflowRules.PosixNormalize(path));

    // Expected values printed by PyYAML 6.0.3: yaml.dump({"name": value}, default_flow_style=False, allow_unicode=True, Dumper=yaml.SafeDumper).
    [Theory]
    [InlineData("NetworkSecurity", "NetworkSecurity")]
    [InlineData("Default", "Default")]
    [InlineData("0", "'0'")]
    [InlineData("123456789012345678", "'123456789012345678'")]
    [InlineData("yes", "'yes'")]
    [InlineData("No", "'No'")]
    [InlineData("null", "'null'")]
    [InlineData("~", "'~'")]
    [InlineData("1.5", "'1.5'")]
    [InlineData("1e5", "1e5")]
    [InlineData("1.0e+5", "'1.0e+5'")]
    [InlineData(".inf", "'.inf'")]
    [InlineData("0x1F", "'0x1F'")]
    [InlineData("1_000", "'1_000'")]
    [InlineData("2024-01-01", "'2024-01-01'")]
    [InlineData("=", "'='")]
    [InlineData("<<", "'<<'")]
    [InlineData("my exp", "my exp")]
    [InlineData("a: b", "'a: b'")]
    [InlineData("a:b", "a:b")]
    [InlineData("#x", "'#x'")]
    [InlineData("x #y", "'x #y'")]
    [InlineData("x# y", "x# y")]
    [InlineData("-x", "-x")]
    [InlineData("- x", "'- x'")]
    [InlineData("? x", "'? x'")]
    [InlineData("?x", "?x")]
    [InlineData(":x", ":x")]
    [InlineData(" lead", "' lead'")]
    [InlineData("trail ", "'trail '")]
    [InlineData("it's", "it's")]
    [InlineData("'q", "'''q'")]
    [InlineData("\"q", "'\"q'")]
    [InlineData("Détection", "Détection")]
    [InlineData("phish/检测", "phish/检测")]
    [InlineData("", "''")]
    [InlineData("file:///tmp/mlruns/1", "file:///tmp/mlruns/1")]
    [InlineData("train-20261123_101500", "train-20261123_101500")]
    [InlineData("[x]", "'[x]'")]
    [InlineData("x[y]", "x[y]")]
    [InlineData("{a}", "'{a}'")]
    [InlineData("&a", "'&a'")]
    [InlineData("*a", "'*a'")]
    [InlineData("!a", "'!a'")]
    [InlineData("|a", "'|a'")]
    [InlineData(">a", "'>a'")]
    [InlineData("%a", "'%a'")]
    [InlineData("@a", "'@a'")]
    [InlineData("`a", "'`a'")]
    [InlineData("---x", "'---x'")]
    [InlineData("...x", "'...x'")]
    [InlineData("a,b", "a,b")]
    [InlineData("tab\tin", "\"tab\\tin\"")]
    [InlineData("alice@example.com", "alice@example.com")]
    [InlineData("C:\\Users", "C:\\Users")]
    [InlineData("e=mc2", "e=mc2")]
    [InlineData("1:20", "'1:20'")]
    [InlineData("190:20:30", "'190:20:30'")]
    [InlineData("+1", "'+1'")]
    [InlineData("-1", "'-1'")]
    [InlineData("0o17", "0o17")]
    [InlineData("017", "'017'")]
    [InlineData("True", "'True'")]
    [InlineData("ON", "'ON'")]
    [InlineData("x y", "x y")]
    [InlineData("bell\a", "\"bell\\a\"")]
    [InlineData("2001-12-14t21:59:43.10-05:00", "'2001-12-14t21:59:43.10-05:00'")]
    public void Scalars_are_written_as_pyyaml_writes_them(string value, string yaml) => Assert.Equal(yaml, PyYamlScalar.Format(value));

    [Fact]
    public void Line_breaks_are_double_quoted_and_read_back_unchanged()
    {
        var yaml = "name: " + PyYamlScalar.Format("a\nb") + "\n";
        Assert.Equal("name: \"a\\nb\"\n", yaml);
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(yaml));
        var mapping = (YamlDotNet.RepresentationModel.YamlMappingNode)stream.Documents[0].RootNode;
        Assert.Equal("a\nb", ((YamlDotNet.RepresentationModel.YamlScalarNode)mapping.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("name")]).Value);
    }
}
