using NetworkSecurity.Api.Cli;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Api.Tests;

/// <summary>
/// Every command's option that takes one value, given twice, is a usage error naming it: evaluate --seeds 0 --seeds 1
/// evaluated seeds 0 and 1 (the two values were joined into a list, and --seeds 0-4 --seeds 5 was refused as the list
/// '0-4,5' that nobody wrote), where --seed 1 --seed 2 is refused.
/// </summary>
public sealed class RepeatedOptionTests
{
    public static TheoryData<string, string, string> SingleValueOptions()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var command in CommandLine.Build().Subcommands)
        {
            foreach (var option in command.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal) && o.ValueType != typeof(bool) && !o.Name.Equals("--help", StringComparison.Ordinal)))
            {
                data.Add(command.Name, option.Name, ValueFor(option.HelpName ?? ""));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SingleValueOptions))]
    public void An_option_given_twice_is_a_usage_error_naming_it(string command, string option, string value)
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = ProgramProcess.Run(dir, [], command, option, value, option, value);

        Assert.True(code == 2, $"{command} {option} {value} {option} {value}: exit {code}: {stderr}{stdout}");
        Assert.Contains($"Option '{option}' expects a single argument but 2 were provided.", stderr);
    }

    // A value each option takes, so that the repetition alone is wrong.
    private static string ValueFor(string helpName) => helpName switch
    {
        "n" => "3",
        "x" => "0.1",
        "seeds" => "1",
        "N|all" => "3",
        "names" => "lightgbm",
        _ when helpName.Contains('|', StringComparison.Ordinal) => helpName.Split('|')[0],
        _ when helpName == "onnx" => "onnx",
        _ => "some-file",
    };
}
