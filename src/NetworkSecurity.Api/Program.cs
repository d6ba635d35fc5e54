using NetworkSecurity.Api.Cli;

if (CommandLine.IsCommand(args))
{
    return await CommandLine.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
await app.RunAsync();
return 0;
