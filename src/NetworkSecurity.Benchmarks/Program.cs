using NetworkSecurity.Benchmarks;

// dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|engines|engines-accuracy|all]
var what = args.Length > 0 ? args[0] : "all";
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

if (what is not ("learners" or "search" or "engines" or "engines-accuracy" or "all"))
{
    Console.Error.WriteLine("Usage: dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search [grid.yaml]|engines|engines-accuracy [0-4]|all]");
    return 2;
}

return 0;
