using NetworkSecurity.Benchmarks;

// dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|all]; accuracy … (see AccuracyExperiments.cs)
var what = args.Length > 0 ? args[0] : "all";
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
    SearchBenchmarks.Run();
}

if (what is not ("learners" or "search" or "all"))
{
    Console.Error.WriteLine("Usage: dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|all]");
    return 2;
}

return 0;
