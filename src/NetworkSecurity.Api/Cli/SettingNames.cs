using System.Reflection;
using NetworkSecurity.Api.Hosting;
using NetworkSecurity.Api.Replication;
using NetworkSecurity.Pipeline.Configuration;

namespace NetworkSecurity.Api.Cli;

/// <summary>
/// Catches misspelt configuration keys given as options (<c>--Pipline:Seed=7</c>, <c>--Pipeline:TestFracton=0</c>),
/// which configuration would otherwise keep as keys nothing reads: the run goes on with the default, silently.
/// Sections bound to options classes are checked property by property; the others only by their section name. A key
/// without a section (<c>--MLFLOW_TRACKING_URI=...</c>, <c>"S3_BUCKET"</c> at a settings file's top level) must be one of
/// the variables the product reads or one of the web host's own keys (urls): <c>--AWS_SECRET_ACCES_KEY=...</c> was kept
/// as a key nothing reads. Environment variables without a section are not checked: the environment holds many others.
/// </summary>
internal static partial class SettingNames
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

    /// <summary>The settings read by their environment-style name, as variables, options (--S3_BUCKET=...) or top-level keys of a settings file.</summary>
    public static readonly IReadOnlyList<string> EnvironmentNames =
    [
        ApiOptions.ApiKeyVariable,
        "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
        "S3_BUCKET", "S3_PREFIX", "S3_ENDPOINT_URL", "S3_FORCE_PATH_STYLE", "S3_DISABLE_CHUNKED_ENCODING",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
        "MONGODB_URL", "MONGO_DB_URL", "MONGODB_DATABASE", "MONGODB_COLLECTION", "MONGODB_BATCH_SIZE", "MONGODB_DNS_SERVER",
    ];

    /// <summary>Whether <paramref name="token"/> (<c>--S3_BUCKET=b</c>, <c>--s3_bucket=b</c>) names one of <see cref="EnvironmentNames"/>, in any case.</summary>
    public static bool IsEnvironmentName(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return EnvironmentNames.Contains(token.TrimStart('-').Split('=', 2)[0], StringComparer.OrdinalIgnoreCase);
    }

    // The generic host's own (HostOptions) and ASP.NET Core's switch for X-Forwarded-For/-Proto, read from configuration.
    private const string StartupTimeoutKey = "startupTimeoutSeconds";

    private static readonly string[] HostBooleans = ["servicesStartConcurrently", "servicesStopConcurrently", "ForwardedHeaders_Enabled"];

    // The web host's own keys: --urls, or "urls" in a settings file (as variables they carry the ASPNETCORE_ prefix).
    private static readonly string[] HostKeys =
    [
        WebHostDefaults.ServerUrlsKey, WebHostDefaults.HttpPortsKey, WebHostDefaults.HttpsPortsKey, WebHostDefaults.EnvironmentKey,
        WebHostDefaults.ContentRootKey, WebHostDefaults.ApplicationKey, WebHostDefaults.WebRootKey, WebHostDefaults.DetailedErrorsKey,
        WebHostDefaults.CaptureStartupErrorsKey, WebHostDefaults.ShutdownTimeoutKey, WebHostDefaults.HostingStartupAssembliesKey,
        WebHostDefaults.HostingStartupExcludeAssembliesKey, WebHostDefaults.PreventHostingStartupKey, WebHostDefaults.SuppressStatusMessagesKey,
        WebHostDefaults.PreferHostingUrlsKey, WebHostDefaults.StartupAssemblyKey, WebHostDefaults.StaticWebAssetsKey, "https_port",
        StartupTimeoutKey, .. HostBooleans,
    ];

    private static readonly string[] HostVariablePrefixes = ["ASPNETCORE_", "DOTNET_"];

    /// <summary>
    /// Why a key of the web host given to a command (<c>--ENVIRONMENT=Staging</c>, <c>--URLS=...</c>) cannot be used, or
    /// null: the commands have no host, so it was taken and ignored, and train read appsettings.Production.json where
    /// the service given the same option read appsettings.Staging.json.
    /// </summary>
    public static string? CommandHostKeyProblem(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var name = token.TrimStart('-').Split('=', 2)[0];
        if (name.Replace("__", ":", StringComparison.Ordinal).Split(':')[0].Equals(KestrelSection, StringComparison.OrdinalIgnoreCase))
        {
            // The service's server: as an option to a command it was taken and ignored (in the settings files and the
            // environment, which the commands share with the service, it is checked as the service checks it).
            return $"'--{name}' is a setting of the web service's server (Kestrel), which the commands do not run: leave it out.";
        }

        if (HostKeys.FirstOrDefault(k => k.Equals(name, StringComparison.OrdinalIgnoreCase)) is not { } key)
        {
            return null;
        }

        return key == WebHostDefaults.EnvironmentKey
            ? $"'--{name}' is a setting of the web service's host; a command picks appsettings.{{Environment}}.json by the ASPNETCORE_ENVIRONMENT (or DOTNET_ENVIRONMENT) variable: set that instead."
            : $"'--{name}' is a setting of the web service's host, which the commands do not read: leave it out.";
    }

    private const string KestrelSection = "Kestrel";

    /// <summary>Whether the host watches its settings files; read before them, from options and DOTNET_ variables only.</summary>
    private const string ReloadOnChangeKey = "hostBuilder:reloadConfigOnChange";

    private const string ReloadOnChangeWhere = "the host reads it before the settings files and the other variables: give it as --hostBuilder:reloadConfigOnChange=false or DOTNET_hostBuilder__reloadConfigOnChange=false (or ASPNETCORE_hostBuilder__reloadConfigOnChange=false).";

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
            var value = variables[name] as string;
            // Logging__LogLevel__Default=Debug changed nothing, as it does as an option or in a settings file, where it is
            // refused; an empty one is unset (some base images set Logging__Console__FormatterName= empty).
            var logging = section.Equals(LoggingSection, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(value);
            if ((Bound.ContainsKey(section) || section.Equals(TrackingSection, StringComparison.OrdinalIgnoreCase) || logging || CommandKeys.Value.ContainsKey(section) || section.Equals(SerilogSection, StringComparison.OrdinalIgnoreCase)) && Problem(name, value) is { } problem)
            {
                return $"environment variable {name}: {problem}";
            }

            if (name.Replace("__", ":", StringComparison.Ordinal).Equals(ReloadOnChangeKey, StringComparison.OrdinalIgnoreCase))
            {
                return $"environment variable {name}: {ReloadOnChangeWhere}";
            }

            if (!string.IsNullOrEmpty(value) && PrefixedProblem(name, value) is { } prefixed)
            {
                return $"environment variable {name}: {prefixed}";
            }

            if (HostVariablePrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)) is { } hostPrefix
                && HostValueProblem(name[hostPrefix.Length..], value) is { } hostValue)
            {
                return $"environment variable {name}: {hostValue}";
            }
        }

        return SpellingsProblem(variables);
    }

    private const string SerilogSection = "Serilog";

    // What Serilog.Settings.Configuration reads of its section; a key beside them (Serilog:MinimumLvel) it ignores.
    private static readonly string[] SerilogKeys = ["MinimumLevel", "WriteTo", "Enrich", "Properties", "Using", "LevelSwitches", "FilterSwitches", "Filter", "Destructure", "AuditTo"];

    private static readonly string[] MinimumLevelKeys = ["Default", "Override", "ControlledBy"];

    /// <summary>
    /// Why a key of the Serilog section names nothing Serilog reads, or null: Serilog__MinimumLevel__Defualt=Debug and
    /// --Serilog:MinimumLvel:Default=Debug were taken and ignored, and the level stayed Information. Below these keys
    /// (sinks' arguments, override categories, properties) names are free.
    /// </summary>
    private static string? SerilogProblem(string name, string[] parts)
    {
        if (!SerilogKeys.Contains(parts[1], StringComparer.OrdinalIgnoreCase))
        {
            var near = Closest(parts[1], SerilogKeys) is { } closest ? $"did you mean 'Serilog:{closest}'? " : "";
            return $"unknown setting '{name}': {near}Serilog reads {string.Join(", ", SerilogKeys)}.";
        }

        return parts[1].Equals("MinimumLevel", StringComparison.OrdinalIgnoreCase) && parts.Length > 2 && !MinimumLevelKeys.Contains(parts[2], StringComparer.OrdinalIgnoreCase)
            ? $"unknown setting '{name}': Serilog:MinimumLevel has {string.Join(", ", MinimumLevelKeys)} (e.g. Serilog:MinimumLevel:Default=Debug, Serilog:MinimumLevel:Override:Microsoft=Warning)."
            : null;
    }

    // The keys of the commands' own sections (Evaluate:Seeds, Export:Format), by section, with the typed option of each.
    private static readonly Lazy<Dictionary<string, (string Key, string Option)[]>> CommandKeys = new(() =>
        new CliOptions([]).Keys.Where(k => k.Key.Contains(':', StringComparison.Ordinal) && !Bound.ContainsKey(k.Key.Split(':')[0]) && !k.Key.StartsWith(LoggingSection + ":", StringComparison.OrdinalIgnoreCase))
            .GroupBy(k => k.Key.Split(':')[0], StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.DistinctBy(k => k.Key, StringComparer.OrdinalIgnoreCase).ToArray(), StringComparer.OrdinalIgnoreCase));

    // The product's own sections (and the commands'), which the prefixed variables must not name.
    private static readonly string[] ProductSections =
        [.. Bound.Keys, TrackingSection, LoggingSection, "Serilog", "Evaluate", "Predict", "PushData", "Export"];

    /// <summary>
    /// Why a variable of the web host's prefix names a setting of the product (<c>ASPNETCORE_Pipeline__Seed</c>,
    /// <c>DOTNET_S3_BUCKET</c>, misspelt <c>ASPNETCORE_Pipline__Seed</c>), or null. The service's host reads such a one
    /// beneath the settings files, so appsettings.json's value won without a word, and the commands did not read it at
    /// all: the two ran with other settings. The host's own (ASPNETCORE_URLS, ASPNETCORE_Kestrel__…) are let through.
    /// </summary>
    private static string? PrefixedProblem(string name, string value)
    {
        if (HostVariablePrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)) is not { } prefix)
        {
            return null;
        }

        var rest = name[prefix.Length..];
        var separator = rest.IndexOf("__", StringComparison.Ordinal);
        string? meant;
        if (separator > 0)
        {
            var section = rest[..separator];
            meant = ProductSections.FirstOrDefault(s => s.Equals(section, StringComparison.OrdinalIgnoreCase))
                ?? (section.Length > 3 && !Free.Contains(section) ? Closest(section, ProductSections) : null);
            meant = meant is null ? null : meant + rest[separator..];
        }
        else
        {
            meant = EnvironmentNames.FirstOrDefault(n => n.Equals(rest, StringComparison.OrdinalIgnoreCase));
        }

        return meant is null ? null
            : Problem(meant, value) is { } problem ? $"the {prefix} prefix is for the web host's own settings, and without it: {problem}"
            : $"the {prefix} prefix is for the web host's own settings ({prefix}URLS, {prefix}ENVIRONMENT): the service would read this one beneath the settings files, whose value wins, and the commands not at all; set {meant} instead.";
    }

    // Pipeline__Seed and PIPELINE__SEED (or Pipeline__seed) are one setting to configuration, which ignores case: the one
    // that won depended on the order the environment was listed in.
    private static string? SpellingsProblem(System.Collections.IDictionary variables)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in variables.Keys.Cast<string>().Order(StringComparer.Ordinal))
        {
            var key = name.Replace("__", ":", StringComparison.Ordinal);
            var section = key.Split(':')[0];
            // An empty one of the product's sections is unset (SetVariablesSource): Pipeline__Seed= beside PIPELINE__SEED=5
            // is the seed 5, not two values.
            if (!(Bound.ContainsKey(section) || Free.Contains(section) || EnvironmentNames.Contains(key, StringComparer.OrdinalIgnoreCase))
                || SetVariablesSource.IsUnset(name, variables[name] as string))
            {
                continue;
            }

            if (seen.TryGetValue(key, out var other) && !string.Equals(variables[other] as string, variables[name] as string, StringComparison.Ordinal))
            {
                return $"environment variables {other} and {name} are one setting ({key}, in any case) with different values, and which one wins is not defined: unset one of them.";
            }

            seen.TryAdd(key, name);
        }

        return null;
    }

    // "$schema": "https://json.schemastore.org/appsettings.json" tells an editor how to check the file (Visual Studio and
    // VS Code offer it); no setting is read from it.
    private const string SchemaReference = "$schema";

    /// <summary>
    /// Why a key of a settings file (appsettings.json) names nothing, or null: a misspelt key there was kept as a key
    /// nothing binds, and the setting kept its default without a word, as a misspelt option or variable did.
    /// </summary>
    public static string? FileProblem(IConfigurationRoot configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var file in configuration.Providers.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider>())
        {
            if (LogLevelSectionProblem(file) is { } logLevels)
            {
                return $"settings file '{SettingSources.FilePath(file)}': {logLevels}";
            }

            // Values only: a section's own name (Pipline of Pipline:Seed) is judged with its keys, which name it.
            if (KeysOf(file, null).Where(key => !key.Equals(SchemaReference, StringComparison.Ordinal)).Select(key => !file.TryGet(key, out var value) ? null
                    : key.Equals(ReloadOnChangeKey, StringComparison.OrdinalIgnoreCase) ? $"'{key}' has no effect here: {ReloadOnChangeWhere}"
                    : Problem("--" + key, value ?? "")).FirstOrDefault(p => p is not null) is { } problem)
            {
                return $"settings file '{SettingSources.FilePath(file)}': {problem}";
            }
        }

        return null;
    }

    // ASP.NET's section of levels (Logging:LogLevel:Default, Logging:LogLevel:<category>), which every template's
    // appsettings.json has and nothing here reads.
    private const string LogLevelKey = "LogLevel";

    private const string LevelNames = "(Serilog's levels: Verbose, Debug, Information, Warning, Error, Fatal; ASP.NET's Trace is Verbose, Critical and None are Fatal)";

    // Serilog:MinimumLevel:Default for ASP.NET's Default, else the category's override.
    private static string SerilogLevelKey(string category) =>
        category.Equals("Default", StringComparison.OrdinalIgnoreCase) ? "Serilog:MinimumLevel:Default" : $"Serilog:MinimumLevel:Override:{category}";

    // An ASP.NET level in Serilog's words (Trace is Verbose; Critical, and None, which Serilog's settings cannot say, Fatal).
    private static string SerilogLevel(string? level) => level?.Trim().ToUpperInvariant() switch
    {
        "TRACE" => "Verbose",
        "CRITICAL" or "NONE" => "Fatal",
        _ => level?.Trim() ?? "",
    };

    /// <summary>
    /// Why a settings file's Logging:LogLevel section is refused, with the Serilog section to write in its place, or null:
    /// every template's appsettings.json has one, and the refusal of its first key alone, with an option as the fix, left
    /// the user to translate the rest.
    /// </summary>
    private static string? LogLevelSectionProblem(IConfigurationProvider file)
    {
        var logLevel = file.GetChildKeys([], LoggingSection).FirstOrDefault(k => k.Equals(LogLevelKey, StringComparison.OrdinalIgnoreCase));
        if (logLevel is null)
        {
            return null;
        }

        var section = $"{LoggingSection}:{logLevel}";
        var levels = file.GetChildKeys([], section).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(category => (Category: category, Level: file.TryGet($"{section}:{category}", out var level) ? SerilogLevel(level) : null))
            .Where(entry => !string.IsNullOrEmpty(entry.Level)).ToArray();
        var json = new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        string Quoted(string text) => System.Text.Json.JsonSerializer.Serialize(text, json);
        var parts = new List<string>();
        if (levels.FirstOrDefault(e => e.Category.Equals("Default", StringComparison.OrdinalIgnoreCase)) is { Level: { } defaultLevel })
        {
            parts.Add($"\"Default\": {Quoted(defaultLevel)}");
        }

        if (levels.Where(e => !e.Category.Equals("Default", StringComparison.OrdinalIgnoreCase)).Select(e => $"{Quoted(e.Category)}: {Quoted(e.Level!)}").ToArray() is { Length: > 0 } overrides)
        {
            parts.Add($"\"Override\": {{{string.Join(", ", overrides)}}}");
        }

        var serilog = $"\"Serilog\": {{\"MinimumLevel\": {{{string.Join(", ", parts)}}}}}";
        return $"\"{LoggingSection}\": {{\"{logLevel}\": …}} is ASP.NET's, which this program does not read (Serilog sets the levels): write {serilog} in its place {LevelNames}.";
    }

    // Every key of a provider, sections included (Pipeline, Pipeline:Training, Pipeline:Training:Mode).
    private static IEnumerable<string> KeysOf(IConfigurationProvider provider, string? parent) =>
        provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(child => parent is null ? child : $"{parent}:{child}")
            .SelectMany(key => KeysOf(provider, key).Prepend(key));

    /// <summary>
    /// Why the key of <paramref name="token"/> (<c>--Section:Key=value</c>, or <c>--Section:Key</c> and its
    /// <paramref name="value"/>) names nothing, or null.
    /// </summary>
    public static string? Problem(string token, string? value = null)
    {
        ArgumentNullException.ThrowIfNull(token);
        var split = token.TrimStart('-').Split('=', 2);
        var name = split[0].Replace("__", ":", StringComparison.Ordinal);
        value ??= split.Length == 2 ? split[1] : null;
        if (!name.Contains(':', StringComparison.Ordinal))
        {
            return Bound.TryGetValue(name, out var sectionType) && !string.IsNullOrEmpty(value) ? SectionGivenValue(name, sectionType) : TopLevelProblem(name) ?? HostValueProblem(name, value);
        }

        var parts = name.Split(':');
        if (parts[0].Equals(TrackingSection, StringComparison.OrdinalIgnoreCase) && !(parts.Length == 2 && parts[1].Equals(TrackingEnabled, StringComparison.OrdinalIgnoreCase)))
        {
            return $"unknown setting '{name}': {TrackingSection} has only '{TrackingEnabled}' (true or false).";
        }

        if (parts[0].Equals(LoggingSection, StringComparison.OrdinalIgnoreCase) && !(parts.Length == 2 && parts[1].Equals(LoggingDirectory, StringComparison.OrdinalIgnoreCase)))
        {
            // ASP.NET's Logging:LogLevel is not read: Serilog takes the levels, so Logging:LogLevel:Default=Debug changed nothing.
            // Named as the key to set instead, in the form it was given (a variable, an option), its level in Serilog's words.
            if (parts.Length > 2 && parts[1].Equals(LogLevelKey, StringComparison.OrdinalIgnoreCase))
            {
                var levelKey = SerilogLevelKey(string.Join(':', parts[2..]));
                var level = SerilogLevel(value) is { Length: > 0 } given ? given : "LEVEL";
                var instead = token.StartsWith("--", StringComparison.Ordinal)
                    ? $"give --{levelKey}={level} instead"
                    : $"set {levelKey.Replace(":", "__", StringComparison.Ordinal)}={level} instead";
                return $"unknown setting '{name}': ASP.NET's log levels are not read here, Serilog sets them under Serilog:MinimumLevel: {instead} {LevelNames}.";
            }

            return parts.Length > 1 && parts[1].Equals(LogLevelKey, StringComparison.OrdinalIgnoreCase)
                ? $"unknown setting '{name}': log levels are set under Serilog:MinimumLevel (e.g. --Serilog:MinimumLevel:Default=Debug, --Serilog:MinimumLevel:Override:Microsoft=Information); {LoggingSection} has only '{LoggingDirectory}'."
                : $"unknown setting '{name}': {LoggingSection} has only '{LoggingDirectory}' (the folder for log files, or none); levels are set under Serilog:MinimumLevel.";
        }

        if (name.Equals(ReloadOnChangeKey, StringComparison.OrdinalIgnoreCase))
        {
            // The host's own switch for watching the settings files (the commands never watch them).
            return string.IsNullOrEmpty(value) || bool.TryParse(value.Trim(), out _) ? null : $"{ReloadOnChangeKey} '{value}' is not true or false.";
        }

        if (parts[0].Equals("ConnectionStrings", StringComparison.OrdinalIgnoreCase))
        {
            return $"unknown setting '{name}': nothing reads ConnectionStrings; MongoDB's connection string is MONGODB_URL (a variable, or --MONGODB_URL=...), MLflow's and S3's addresses are MLFLOW_TRACKING_URI and S3_ENDPOINT_URL.";
        }

        if (parts[0].Equals(SerilogSection, StringComparison.OrdinalIgnoreCase) && SerilogProblem(name, parts) is { } serilog)
        {
            return serilog;
        }

        if (CommandKeys.Value.TryGetValue(parts[0], out var commandKeys))
        {
            // The commands' own sections, read key by key: --Export:Formt=onnx was kept as a key nothing reads.
            return commandKeys.Any(k => k.Key.Equals(name, StringComparison.OrdinalIgnoreCase)) ? null
                : $"unknown setting '{name}': {parts[0]} has {string.Join(", ", commandKeys.Select(k => $"{k.Key.Split(':')[1]} ({k.Option})"))}.";
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

        // A section given a value (--Pipeline:Training=gbdt): the binder ignores it. Empty is a section's own entry, as
        // the test host passes them (--Pipeline:Training=).
        return type is not null && !string.IsNullOrEmpty(value) ? SectionGivenValue(name, type) : null;
    }

    private static string SectionGivenValue(string name, Type section)
    {
        var keys = section.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name).ToArray();
        return $"unknown setting '{name}': {name} is a section, not a value; give one of its keys ({string.Join(", ", keys)}), as in --{name}:{keys[0]}=...";
    }

    // A key without a section: a variable the product reads, a key of the web host, or a section's name (the test host
    // passes sections as --Serilog=).
    private static string? TopLevelProblem(string name)
    {
        if (EnvironmentNames.Concat(HostKeys).Concat(Bound.Keys).Concat(Free).Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        // ASPNETCORE_URLS as an option or in a settings file: the host strips the prefix from environment variables only.
        if (HostVariablePrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)) is { } prefix
            && HostKeys.FirstOrDefault(k => k.Equals(name[prefix.Length..], StringComparison.OrdinalIgnoreCase)) is { } hostKey)
        {
            return $"unknown setting '{name}': the web host reads that name from the environment only; as an option or in a settings file it is '{hostKey}' (--{hostKey}=...).";
        }

        // --Seed=5 to the service, "MaxRows" at a settings file's top level: a setting of a section, given without it.
        if (Bound.SelectMany(section => SettableKeys(section.Key, section.Value)).FirstOrDefault(k => k.EndsWith(":" + name, StringComparison.OrdinalIgnoreCase)) is { } sectioned)
        {
            return $"unknown setting '{name}': did you mean '{sectioned}'? A setting names its section.";
        }

        var known = EnvironmentNames.Concat(Bound.Keys).Concat(Free).ToArray();
        return Closest(name, known) is { } near
            ? $"unknown setting '{name}': did you mean '{near}'?"
            : $"unknown setting '{name}': a key without a section is one of the variables {string.Join(", ", EnvironmentNames)}, or a web host key such as urls (the README's Configuration table lists them).";
    }

    // The host's switches, which it reads as true only for "true" or "1", anything else as false.
    private static readonly string[] HostSwitches =
    [
        WebHostDefaults.DetailedErrorsKey, WebHostDefaults.CaptureStartupErrorsKey, WebHostDefaults.PreventHostingStartupKey,
        WebHostDefaults.SuppressStatusMessagesKey, WebHostDefaults.PreferHostingUrlsKey,
    ];

    /// <summary>
    /// Why a value of the host's own keys is one the host would take for something else, or null: shutdownTimeoutSeconds
    /// '45s' kept the default 30 s, detailedErrors 'yes' was false, without a word.
    /// </summary>
    private static string? HostValueProblem(string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (name.Replace("__", ":", StringComparison.Ordinal).Equals(ReloadOnChangeKey, StringComparison.OrdinalIgnoreCase))
        {
            // DOTNET_/ASPNETCORE_hostBuilder__reloadConfigOnChange=no stopped the service with the host's error, naming no variable.
            return bool.TryParse(value, out _) ? null : $"{ReloadOnChangeKey} '{value}' is not true or false.";
        }

        if (name.Equals(WebHostDefaults.ShutdownTimeoutKey, StringComparison.OrdinalIgnoreCase) || name.Equals(StartupTimeoutKey, StringComparison.OrdinalIgnoreCase))
        {
            return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)
                ? null
                : name.Equals(StartupTimeoutKey, StringComparison.OrdinalIgnoreCase)
                    ? $"{StartupTimeoutKey} '{value}' is not a whole number of seconds (the host would keep its default, no limit)."
                    : $"{WebHostDefaults.ShutdownTimeoutKey} '{value}' is not a whole number of seconds (the host would keep its default, 30).";
        }

        if (HostBooleans.FirstOrDefault(k => k.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } switchKey)
        {
            // Read with bool.TryParse (or as "true" only): 1 or yes is false, without a word.
            return bool.TryParse(value, out _) ? null : $"{switchKey} '{value}' is not true or false (the host would take it for false).";
        }

        return HostSwitches.Contains(name, StringComparer.OrdinalIgnoreCase) && value is not ("1" or "0") && !bool.TryParse(value, out _)
            ? $"{name} '{value}' is not true or false (the host would take it for false)."
            : null;
    }

    // Every key the binder sets in an options class: Pipeline:Seed, Pipeline:Training:Mode, …
    private static IEnumerable<string> SettableKeys(string prefix, Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).SelectMany(p =>
            p.PropertyType.IsClass && p.PropertyType != typeof(string) ? SettableKeys($"{prefix}:{p.Name}", p.PropertyType)
            : p.CanWrite ? [$"{prefix}:{p.Name}"] : []);

    /// <summary>
    /// The configuration binder's "Failed to convert configuration value 'abc' at 'Pipeline:Seed' to type 'System.Int32'."
    /// in the settings' own words, as their other errors are ("Pipeline:Seed 'abc' is not a whole number, 0 or more.",
    /// "Pipeline:Seed is empty: give …, or leave the setting out."), or null when the key's type is not one of these.
    /// </summary>
    public static string? ConversionProblem(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var match = ConversionFailure().Match(message);
        if (!match.Success)
        {
            return null;
        }

        var key = match.Groups["key"].Value;
        var value = match.Groups["value"].Value;
        var property = SettableProperty(key);
        var type = property?.PropertyType ?? Type.GetType(match.Groups["type"].Value);
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        var range = property?.GetCustomAttribute<System.ComponentModel.DataAnnotations.RangeAttribute>();
        if (type is null || Expected(type, range) is not { } expected)
        {
            return null;
        }

        // A whole number the type cannot hold (2147483648 for an int) is one, out of range: "is not a whole number, 1
        // or more" said the opposite of what was wrong.
        if (WholeNumberRange(type) is { } bounds && System.Numerics.BigInteger.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            string Text(object bound) => Convert.ToString(bound, System.Globalization.CultureInfo.InvariantCulture)!;
            var min = range is null ? bounds.Min : Math.Max(Convert.ToDecimal(range.Minimum, System.Globalization.CultureInfo.InvariantCulture), bounds.Min);
            var max = range is null ? bounds.Max : Math.Min(Convert.ToDecimal(range.Maximum, System.Globalization.CultureInfo.InvariantCulture), bounds.Max);
            return $"{key} '{SettingSources.Shown(value)}' is out of range: give a whole number from {Text(min)} to {Text(max)}.";
        }

        return value.Length == 0
            ? $"{key} is empty: give {expected}, or leave the setting out."
            : $"{key}{(SettingSources.IsSecret(key) ? "" : $" '{SettingSources.Shown(value)}'")} is not {expected}.";
    }

    /// <summary>
    /// Why a whole-number setting of the bound sections is written in hexadecimal, or null: the configuration binder reads
    /// "0x10", "#10" and "&amp;H10" as 16, so Pipeline__Seed=0x10 was seed 16 where --seed 0x10 is refused.
    /// </summary>
    public static string? WholeNumberProblem(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var key in Bound.SelectMany(section => SettableKeys(section.Key, section.Value)))
        {
            if (configuration[key] is not { Length: > 0 } text || SettableProperty(key) is not { } property)
            {
                continue;
            }

            var trimmed = text.TrimStart();
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if ((trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith('#') || trimmed.StartsWith("&h", StringComparison.OrdinalIgnoreCase))
                && WholeNumberRange(type) is not null && Expected(type, property.GetCustomAttribute<System.ComponentModel.DataAnnotations.RangeAttribute>()) is { } expected)
            {
                return $"{key} '{SettingSources.Shown(text)}' is written in hexadecimal, which the options refuse: give {expected}, in decimal.";
            }
        }

        return null;
    }

    // The values a whole-number type holds, or null for another type.
    private static (decimal Min, decimal Max)? WholeNumberRange(Type type) =>
        type == typeof(int) ? (int.MinValue, int.MaxValue)
        : type == typeof(long) ? (long.MinValue, long.MaxValue)
        : type == typeof(short) ? (short.MinValue, short.MaxValue)
        : type == typeof(uint) ? (uint.MinValue, uint.MaxValue)
        : type == typeof(ulong) ? (ulong.MinValue, ulong.MaxValue)
        : null;

    // What a value of the type takes, within its range: "a whole number from 1 to 50", "a number from 0 to 0.5", "true or false".
    private static string? Expected(Type type, System.ComponentModel.DataAnnotations.RangeAttribute? range)
    {
        var whole = type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(uint) || type == typeof(ulong);
        if (type == typeof(bool) || type == typeof(Switch))
        {
            return Setting.SwitchWords;
        }

        if (!whole && type != typeof(double) && type != typeof(float) && type != typeof(decimal))
        {
            return null;
        }

        var kind = whole ? "a whole number" : "a number";
        if (range is null)
        {
            return kind;
        }

        var min = Convert.ToDouble(range.Minimum, System.Globalization.CultureInfo.InvariantCulture);
        var max = Convert.ToDouble(range.Maximum, System.Globalization.CultureInfo.InvariantCulture);
        string Text(double x) => x.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return whole && max >= (type == typeof(int) ? int.MaxValue : long.MaxValue)
            ? $"{kind}, {Text(min)} or more"
            : $"{kind} from {Text(min)} to {Text(max)}";
    }

    // The property a key of a bound section sets (Pipeline:Training:Mode), or null.
    private static PropertyInfo? SettableProperty(string key)
    {
        var parts = key.Split(':');
        if (!Bound.TryGetValue(parts[0], out var type))
        {
            return null;
        }

        PropertyInfo? property = null;
        foreach (var part in parts[1..])
        {
            property = type?.GetProperty(part, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                return null;
            }

            type = property.PropertyType;
        }

        return property;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'\.", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex ConversionFailure();

    /// <summary>The known name closest to <paramref name="name"/> (a few letters' edits, in any case), or null.</summary>
    public static string? Closest(string name, IEnumerable<string> known)
    {
        var (best, distance) = known.Select(k => (k, Distance(name.ToUpperInvariant(), k.ToUpperInvariant()))).MinBy(p => p.Item2);
        return best is not null && distance <= Math.Max(1, name.Length / 4) ? best : null;
    }

    // Levenshtein distance: insertions, deletions and substitutions.
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
