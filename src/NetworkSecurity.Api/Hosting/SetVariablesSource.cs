using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// The environment variables as configuration, those of the product's own sections (Api, Pipeline, Replication, Tracking,
/// the logging ones, Logging and Serilog, and the server's, Kestrel) with an empty value left out: an empty variable is unset, as Compose's <c>Pipeline__Seed: ${SEED:-}</c> and
/// Kubernetes' <c>value: ""</c> mean it, and as the product already took AWS_REGION, MLFLOW_HTTP_REQUEST_TIMEOUT or
/// NETWORKSECURITY_API_KEY when empty. <c>Pipeline__Seed=</c> stopped the service and every command ("Failed to convert
/// configuration value '' at 'Pipeline:Seed'"), <c>Tracking__Enabled=</c> too, and an empty one hid the settings file's
/// value. <c>Serilog__MinimumLevel__Default=</c> (an env file's unset <c>${LOG_LEVEL}</c>) stopped them too ("Serilog:MinimumLevel:Default
/// is empty"), and an empty <c>Logging__Directory=</c> put the logs in Logs/ whatever the settings file said;
/// <c>Kestrel__Endpoints__Http__Url=</c> made an endpoint without a Url, which stopped the service ("is not set").
/// Options and settings files are unchanged: an empty value there is written on purpose.
/// </summary>
internal sealed class SetVariablesSource : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new SetVariablesProvider();

    /// <summary>The product's own variables (no prefix), in <paramref name="configuration"/>'s sources, with empty ones left out.</summary>
    public static void Replace(IConfigurationBuilder configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var sources = configuration.Sources;
        for (var i = 0; i < sources.Count; i++)
        {
            // The host's ASPNETCORE_ and DOTNET_ variables are its own, read as they are.
            if (sources[i] is EnvironmentVariablesConfigurationSource { Prefix: null or "" })
            {
                sources[i] = new SetVariablesSource();
            }
        }
    }

    private static readonly string[] Sections = [ApiOptions.SectionName, Pipeline.Configuration.PipelineOptions.SectionName, Replication.ReplicationOptions.SectionName, Cli.SettingNames.TrackingSection, "Logging", "Serilog", "Kestrel"];

    /// <summary>Whether the variable <paramref name="name"/> (Pipeline__Seed) with <paramref name="value"/> is left out as unset: empty, of one of the product's sections.</summary>
    public static bool IsUnset(string name, string? value) =>
        string.IsNullOrEmpty(value) && Sections.Contains(name.Replace("__", ":", StringComparison.Ordinal).Split(':')[0], StringComparer.OrdinalIgnoreCase);

    // An environment variables provider still, so that a setting's error names the variable it came from.
    private sealed class SetVariablesProvider : EnvironmentVariablesConfigurationProvider
    {
        public override void Load()
        {
            base.Load();
            var empty = Data.Where(entry => IsUnset(entry.Key, entry.Value)).Select(entry => entry.Key).ToArray();
            if (empty.Length == 0)
            {
                return;
            }

            // Pipeline__Seed= beside PIPELINE__SEED=5 is one setting, set: the empty spelling, when read last, hid the 5.
            var variables = Environment.GetEnvironmentVariables();
            foreach (var key in empty)
            {
                var set = variables.Keys.Cast<string>()
                    .Where(name => name.Replace("__", ":", StringComparison.Ordinal).Equals(key, StringComparison.OrdinalIgnoreCase) && variables[name] is string { Length: > 0 })
                    .Select(name => (string)variables[name]!).FirstOrDefault();
                if (set is null)
                {
                    Data.Remove(key);
                }
                else
                {
                    Data[key] = set;
                }
            }
        }
    }
}
