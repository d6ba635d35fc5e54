using System.Reflection;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline.Configuration;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// Catches misspelt configuration keys given as options (<c>--Pipline:Seed=7</c>, <c>--Pipeline:TestFracton=0</c>),
/// which configuration would otherwise keep as keys nothing reads: the run goes on with the default, silently.
/// Sections bound to options classes are checked property by property; the others only by their section name.
/// Environment-style keys (<c>--MLFLOW_TRACKING_URI=...</c>) are not checked: any variable may be meant.
/// </summary>
internal static class SettingNames
{
    private static readonly Dictionary<string, Type> Bound = new(StringComparer.OrdinalIgnoreCase)
    {
        [PipelineOptions.SectionName] = typeof(PipelineOptions),
        [ApiOptions.SectionName] = typeof(ApiOptions),
        [ReplicationOptions.SectionName] = typeof(ReplicationOptions),
    };

    /// <summary>Tracking:Enabled (false: no MLflow run is recorded), the one key of its section.</summary>
    public const string TrackingSection = "Tracking";

    public const string TrackingEnabled = "Enabled";

    /// <summary>Logging:Directory (the log files' folder, or none), the one key of its section.</summary>
    private const string LoggingSection = "Logging";

    private const string LoggingDirectory = "Directory";

    // Read key by key (Logging:Directory and Tracking:Enabled, checked above; the commands' own), or by a library (Serilog, Kestrel).
    private static readonly HashSet<string> Free = new(StringComparer.OrdinalIgnoreCase)
    {
        "Logging", "Serilog", "Kestrel", "AllowedHosts", "Tracking", "Evaluate", "Predict", "PushData", "Export",
    };

    /// <summary>
    /// Why an environment variable of a checked section (<c>Pipeline__TestFracton</c>, <c>Api__MaxRow</c>) names nothing,
    /// or null: configuration reads it as a key nothing binds, so the setting kept its default without a word.
    /// </summary>
    public static string? EnvironmentProblem(System.Collections.IDictionary variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        foreach (var name in variables.Keys.Cast<string>().Order(StringComparer.Ordinal))
        {
            var separator = name.IndexOf("__", StringComparison.Ordinal);
            var section = separator > 0 ? name[..separator] : "";
            if ((Bound.ContainsKey(section) || section.Equals(TrackingSection, StringComparison.OrdinalIgnoreCase)) && Problem(name) is { } problem)
            {
                return $"environment variable {name}: {problem}";
            }
        }

        return null;
    }

    /// <summary>
    /// Why a key of a settings file (appsettings.json) names nothing, or null: a misspelt key there was kept as a key
    /// nothing binds, and the setting kept its default without a word, as a misspelt option or variable did.
    /// </summary>
    public static string? FileProblem(IConfigurationRoot configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var file in configuration.Providers.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider>())
        {
            if (KeysOf(file, null).Select(key => Problem("--" + key)).FirstOrDefault(p => p is not null) is { } problem)
            {
                var path = file.Source.FileProvider?.GetFileInfo(file.Source.Path ?? "").PhysicalPath ?? file.Source.Path;
                return $"settings file '{path}': {problem}";
            }
        }

        return null;
    }

    // Every key of a provider, sections included (Pipeline, Pipeline:Training, Pipeline:Training:Mode).
    private static IEnumerable<string> KeysOf(IConfigurationProvider provider, string? parent) =>
        provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(child => parent is null ? child : $"{parent}:{child}")
            .SelectMany(key => KeysOf(provider, key).Prepend(key));

    /// <summary>Why the key of <paramref name="token"/> (<c>--Section:Key=value</c>) names nothing, or null.</summary>
    public static string? Problem(string token)
    {
        var name = token.TrimStart('-').Split('=', 2)[0].Replace("__", ":", StringComparison.Ordinal);
        if (ConfigurationKeyTokens.IsEnvironmentKey("--" + name) || !name.Contains(':', StringComparison.Ordinal))
        {
            return null;
        }

        var parts = name.Split(':');
        if (parts[0].Equals(TrackingSection, StringComparison.OrdinalIgnoreCase) && !(parts.Length == 2 && parts[1].Equals(TrackingEnabled, StringComparison.OrdinalIgnoreCase)))
        {
            return $"unknown setting '{name}': {TrackingSection} has only '{TrackingEnabled}' (true or false).";
        }

        if (parts[0].Equals(LoggingSection, StringComparison.OrdinalIgnoreCase) && !(parts.Length == 2 && parts[1].Equals(LoggingDirectory, StringComparison.OrdinalIgnoreCase)))
        {
            // ASP.NET's Logging:LogLevel is not read: Serilog takes the levels, so Logging:LogLevel:Default=Debug changed nothing.
            return parts.Length > 1 && parts[1].Equals("LogLevel", StringComparison.OrdinalIgnoreCase)
                ? $"unknown setting '{name}': log levels are set under Serilog:MinimumLevel (e.g. --Serilog:MinimumLevel:Default=Debug, --Serilog:MinimumLevel:Override:Microsoft=Information); {LoggingSection} has only '{LoggingDirectory}'."
                : $"unknown setting '{name}': {LoggingSection} has only '{LoggingDirectory}' (the folder for log files, or none); levels are set under Serilog:MinimumLevel.";
        }

        if (Free.Contains(parts[0]))
        {
            return null;
        }

        if (!Bound.TryGetValue(parts[0], out var type))
        {
            return $"unknown setting '{name}': no section '{parts[0]}' (sections: {string.Join(", ", Bound.Keys.Concat(Free))}).";
        }

        for (var i = 1; i < parts.Length; i++)
        {
            if (type is null)
            {
                // Past a value (Pipeline:Seed:Foo): nothing binds it.
                return $"unknown setting '{name}': {string.Join(":", parts[..i])} is a value, not a section.";
            }

            var property = type.GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            var section = property is not null && property.PropertyType.IsClass && property.PropertyType != typeof(string);
            if (property is null || (!property.CanWrite && !section))
            {
                // Read-only values (Pipeline:HasNoHoldout) are worked out from others: the binder never sets them.
                var known = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
                return $"unknown setting '{name}': {string.Join(":", parts[..i])} has no{(property is null ? "" : " settable")} '{parts[i]}' (it has {string.Join(", ", known)}).";
            }

            // Into nested option classes (Pipeline:Training); a value's own type ends the check.
            type = section ? property.PropertyType : null;
        }

        return null;
    }
}
