using NetworkSecurity.Api.Cli;
using NetworkSecurity.Api.Hosting;

// Offline commands (train, predict, push-data) run and exit; anything else serves the API.
if (CommandLine.IsCommand(args))
{
    return await CommandLine.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddNetworkSecurityApi();

var app = builder.Build();
app.UseNetworkSecurityApi();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
