using NetworkSecurity.Benchmarks;

// dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|all|mongodb]
var what = args.Length > 0 ? args[0] : "all";
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
    Console.Error.WriteLine("Usage: dotnet run -c Release --project src/NetworkSecurity.Benchmarks -- [learners|search|all|mongodb [--uri mongodb://…] [--batch-size n] [--repeat n]]");
    return 2;
}

return 0;
