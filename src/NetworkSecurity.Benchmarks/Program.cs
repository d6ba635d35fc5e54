using NetworkSecurity.Benchmarks;

// dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|explain|all]
var what = args.Length > 0 ? args[0] : "all";
if (what is "learners" or "all")
{
    LearnerBenchmarks.Run();
}

if (what is "search" or "all")
{
    SearchBenchmarks.Run();
}

if (what is "explain")
{
    ExplainBenchmarks.Run();
}

if (what is not ("learners" or "search" or "explain" or "all"))
{
    Console.Error.WriteLine("Usage: dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|explain|all]");
    return 2;
}

return 0;
