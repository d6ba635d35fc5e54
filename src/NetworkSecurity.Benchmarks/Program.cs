using NetworkSecurity.Benchmarks;

// dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|engines|engines-accuracy|explain|explain-table-bits|all|mongodb]; accuracy … (see AccuracyExperiments.cs)
var what = args.Length > 0 ? args[0] : "all";
const string Usage = "Usage: dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search [grid.yaml]|engines|engines-accuracy [0-4]|explain [100x32|600x64|lightgbm|default]|explain-table-bits [100x32|…]|all|mongodb [--uri mongodb://…] [--batch-size n] [--repeat n]]";
if (what is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return 0;
}

// At most this many arguments after the command: an extra one (`learners 600x64`) was ignored and the run took minutes.
var maxArguments = what switch
{
    "learners" or "engines" or "all" => 0,
    "search" or "engines-accuracy" or "explain" or "explain-table-bits" => 1,
    _ => int.MaxValue,
};
if (args.Length - 1 > maxArguments)
{
    Console.Error.WriteLine($"{what} takes {(maxArguments == 0 ? "no arguments" : "at most one argument")}, not '{string.Join(' ', args[1..])}'.");
    Console.Error.WriteLine(Usage);
    return 2;
}

if (what is "explain" or "explain-table-bits" && args.Length > 1 && !ExplainBenchmarks.ShapeKeys.Contains(args[1]))
{
    // An unknown model name measured nothing and printed an empty table, exit code 0.
    Console.Error.WriteLine($"unknown model '{args[1]}' for {what}: use one of {string.Join(", ", ExplainBenchmarks.ShapeKeys)}.");
    Console.Error.WriteLine(Usage);
    return 2;
}

try
{
    return await RunAsync(what, args);
}
catch (UsageException e)
{
    // Bad seeds, a missing or malformed grid file, a bad mongodb option: said as such, not as a stack trace.
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (BenchmarkFailedException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

static async Task<int> RunAsync(string what, string[] args)
{
    if (what is "mongodb")
    {
        await MongoBenchmarks.RunAsync(args[1..]);
        return 0;
    }

    if (what is "mongodb-phase")
    {
        await MongoBenchmarks.PhaseAsync(args[1..]); // one measured phase, in its own process
        return 0;
    }

    if (what is "mongodb-server")
    {
        await MongoBenchmarks.ServeAsync(); // the child process `mongodb` starts when no --uri is given
        return 0;
    }

    if (what == "accuracy")
    {
        return AccuracyExperiments.Run(args[1..]);
    }

    if (what is "learners" or "all")
    {
        LearnerBenchmarks.Run();
    }

    if (what is "search" or "all")
    {
        if (args.Length > 1)
        {
            SearchBenchmarks.Run(args[1]);
        }
        else
        {
            SearchBenchmarks.Run();
        }
    }

    if (what is "engines" or "all")
    {
        EngineBenchmarks.Run();
    }

    if (what is "engines-accuracy")
    {
        EngineBenchmarks.Accuracy(args.Length > 1 ? NetworkSecurity.Benchmarks.Bench.ParseSeeds(args[1]) : [0, 1, 2, 3, 4]);
    }

    if (what is "explain-table-bits")
    {
        ExplainBenchmarks.TableBits(args.Length > 1 ? args[1] : "100x32");
        return 0;
    }

    if (what is "explain")
    {
        ExplainBenchmarks.Run(args.Length > 1 ? args[1] : null);
    }

    if (what is not ("learners" or "search" or "engines" or "engines-accuracy" or "explain" or "all"))
    {
        // The usage alone did not say which argument was wrong (a misspelt `engine`, say).
        Console.Error.WriteLine($"unknown benchmark '{what}': use one of learners, search, engines, engines-accuracy, explain, explain-table-bits, all, mongodb.");
        Console.Error.WriteLine(Usage);
        return 2;
    }

    return 0;
}
