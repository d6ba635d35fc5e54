using System.Diagnostics;
using System.Globalization;
using NetworkSecurity.Api.Cli;
using NetworkSecurity.Learning.Data;
using NetworkSecurity.Pipeline.Data;
using NetworkSecurity.Pipeline.DataSources;
using NetworkSecurity.Pipeline.Schema;

namespace NetworkSecurity.Benchmarks;

/// <summary>Timing helpers: warm up, then the median of repeated runs; results printed as a markdown table.</summary>
public static class Bench
{
    public static (FeatureMatrix X, int[] Y) LoadData()
    {
        var schema = SchemaLoader.Load("data_schema/schema.yaml");
        var parsed = DatasetParser.Parse(CsvTableReader.ReadFile("Network_Data/phisingData.csv"), schema, true, false);
        return (parsed.Valid.Features, parsed.Valid.Labels);
    }

    public static double MedianSeconds(int repetitions, Action action)
    {
        action(); // warm-up: JIT and caches
        var times = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return times[repetitions / 2];
    }

    /// <summary>Like <see cref="MedianSeconds"/> in process CPU time: for single-threaded work on a shared machine.</summary>
    public static double MedianCpuSeconds(int repetitions, Action action)
    {
        action();
        var times = new double[repetitions];
        using var process = Process.GetCurrentProcess();
        for (var i = 0; i < repetitions; i++)
        {
            process.Refresh();
            var before = process.TotalProcessorTime;
            action();
            process.Refresh();
            times[i] = (process.TotalProcessorTime - before).TotalSeconds;
        }

        Array.Sort(times);
        return times[repetitions / 2];
    }

    public static void Table(string title, IEnumerable<(string What, string Measured, string Target)> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"### {title}");
        Console.WriteLine();
        Console.WriteLine("| what | measured | target / reference |");
        Console.WriteLine("|---|---|---|");
        foreach (var (what, measured, target) in rows)
        {
            Console.WriteLine($"| {what} | {measured} | {target} |");
        }
    }

    /// <summary>"0-4" or "1,3,7", as evaluate takes them; anything else is a <see cref="UsageException"/>.</summary>
    public static int[] ParseSeeds(string text) =>
        SeedRange.TryParse(text, out var seeds) ? seeds : throw new UsageException($"seeds '{text}' {SeedRange.Expected}");

    public static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
