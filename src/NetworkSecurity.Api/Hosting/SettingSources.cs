using System.Collections;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace NetworkSecurity.Api.Hosting;

/// <summary>
/// Where a setting's value came from: a settings file, an environment variable or an option. A setting can be given in
/// five places (two settings files, the environment, typed options, --Section:Key), and an error naming only the key
/// ("Pipeline:Seed: …") left the user to search them all for the one that won.
/// </summary>
internal static partial class SettingSources
{
    // The web host strips these from its own variables (ASPNETCORE_URLS is urls).
    private static readonly string[] VariablePrefixes = ["", "ASPNETCORE_", "DOTNET_"];

    /// <summary>
    /// <paramref name="message"/> followed by where each setting it names (or <paramref name="keys"/>) was set, e.g.
    /// "… (Pipeline:Seed = 'abc' from environment variable Pipeline__Seed)"; as it is when none of them has a value.
    /// </summary>
    /// <param name="typedOption">The typed option (--seed) that sets a key, for the commands' in-memory source of them.</param>
    public static string Annotate(string message, IConfiguration? configuration, Func<string, string?>? typedOption = null, IEnumerable<string>? keys = null)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return message;
        }

        var sources = (keys ?? KeysIn(message)).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(key => Source(root, key, typedOption)).OfType<string>().ToArray();
        return sources.Length == 0 ? message : $"{message} ({string.Join("; ", sources)})";
    }

    /// <summary>"Key = 'value' from …" for the source whose value wins (the last that has the key), or null when none has it.</summary>
    public static string? Source(IConfigurationRoot root, string key, Func<string, string?>? typedOption = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var provider in root.Providers.Reverse())
        {
            if (provider.TryGet(key, out var value))
            {
                // Secrets and addresses (which may carry user:password@) are named, never shown.
                var shown = value is null || IsSecret(key) ? "" : $" = '{Shown(value)}'";
                return $"{key}{shown} from {Describe(provider, key, value, typedOption)}";
            }
        }

        return null;
    }

    /// <summary>The file a settings file provider reads, as a full path when it is on disk.</summary>
    public static string? FilePath(JsonConfigurationProvider file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Source.FileProvider?.GetFileInfo(file.Source.Path ?? "").PhysicalPath ?? file.Source.Path;
    }

    private static string Describe(IConfigurationProvider provider, string key, string? value, Func<string, string?>? typedOption) => provider switch
    {
        JsonConfigurationProvider file => $"settings file '{FilePath(file)}'",
        EnvironmentVariablesConfigurationProvider => VariableName(key, value) is { } name ? $"environment variable {name}" : "the environment",
        CommandLineConfigurationProvider => $"option --{key}",
        MemoryConfigurationProvider when typedOption?.Invoke(key) is { } option => $"option {option}",
        _ => $"{provider}",
    };

    // The variable as the user spelt it (Pipeline__Seed, PIPELINE__SEED, ASPNETCORE_URLS): the provider keeps only the key.
    private static string? VariableName(string key, string? value)
    {
        var variables = Environment.GetEnvironmentVariables();
        return variables.Keys.Cast<string>().Order(StringComparer.Ordinal).FirstOrDefault(name =>
            VariablePrefixes.Any(prefix => name.Replace("__", ":", StringComparison.Ordinal).Equals(prefix + key, StringComparison.OrdinalIgnoreCase))
            && string.Equals(variables[name] as string, value, StringComparison.Ordinal));
    }

    // Words that name a credential, or an address that may carry one (user:password@, a token as the user).
    private static readonly string[] SecretWords = ["KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PWD", "CREDENTIAL", "CREDENTIALS", "URL", "URLS", "URI", "URIS"];

    /// <summary>
    /// Whether a key's value may hold a secret: a word of its last part names a credential or an address (TrainApiKey,
    /// AWS_SECRET_ACCESS_KEY, MONGODB_URL, serverUrl, or run together, as in MONGOPASSWORD), or it is a connection
    /// string. A word only: "URI" inside Security (Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Security) hid a
    /// level. Levels are never secrets.
    /// </summary>
    internal static bool IsSecret(string key)
    {
        if (key.StartsWith("Serilog:MinimumLevel", StringComparison.OrdinalIgnoreCase) && !key.Contains("connectionstring", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return key.Contains("connectionstring", StringComparison.OrdinalIgnoreCase)
            || Words().Split(key.Split(':')[^1]).Select(word => word.ToUpperInvariant())
                .Any(word => SecretWords.Any(secret => word.EndsWith(secret, StringComparison.Ordinal)));
    }

    // One line, of a length to read: a value with a line break would forge a second line of the error.
    internal static string Shown(string value)
    {
        var escaped = ControlCharacterEscaper.Escape(value);
        return escaped.Length <= 80 ? escaped : escaped[..77] + "...";
    }

    // Keys a message names: Section:Key (Pipeline:Training:Mode, Kestrel:Endpoints:Http:Url) and variables (S3_BUCKET).
    private static IEnumerable<string> KeysIn(string message) =>
        SettingKey().Matches(message).Select(m => m.Value.TrimEnd('.'));

    // Between the words of a name: MONGODB_URL, TrainApiKey, Microsoft.AspNetCore.Security, AWSSecretKey.
    [GeneratedRegex("[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")]
    private static partial Regex Words();

    [GeneratedRegex(@"(?<![\w:/.\-])(?:[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z0-9_.\-]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w])")]
    private static partial Regex SettingKey();
}
