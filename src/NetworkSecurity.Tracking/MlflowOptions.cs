using System.Globalization;
using NetworkSecurity.Pipeline.Configuration;

namespace NetworkSecurity.Tracking;

/// <summary>
/// MLflow settings from MLflow's own variables: MLFLOW_TRACKING_URI, _USERNAME, _PASSWORD, _TOKEN, and for servers
/// MLFLOW_HTTP_REQUEST_TIMEOUT (seconds per request) and MLFLOW_HTTP_REQUEST_MAX_RETRIES.
/// </summary>
public sealed record MlflowOptions
{
    public string? TrackingUri { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public string? Token { get; init; }

    /// <summary>Upper bound on one run's tracking, every request, retry and backoff included.</summary>
    public TimeSpan MaxTrackingTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Upper bound on the tracking of a run stopped by a shutdown or a cancel, in place of <see cref="MaxTrackingTime"/>:
    /// with the 5 s given to end it as KILLED when the status is not set by then, it fits in the host's 30 s shutdown.
    /// </summary>
    public TimeSpan StoppedTrackingTime { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Upper bound on one request (MLflow's client: 120 s; shorter here so retries fit in the budget).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries after a timeout, a connection failure or a 408/429/5xx answer (MLflow's client: 7).</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>First backoff; each retry doubles it, plus up to as much again of jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    // The record's ToString without the password and token (it printed every property), the URI's user information masked.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"TrackingUri = {(TrackingUri is null ? "unset" : UrlCredentials.RedactUser(TrackingUri))}, Username = {Username}, ")
            .Append($"Password = {(Password is null ? "unset" : "***")}, Token = {(Token is null ? "unset" : "***")}");
        return true;
    }

    public bool IsServer => TrackingUri is { } uri
        && (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    public static MlflowOptions FromEnvironment(Func<string, string?> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var options = new MlflowOptions
        {
            TrackingUri = read("MLFLOW_TRACKING_URI"),
            Username = read("MLFLOW_TRACKING_USERNAME"),
            Password = read("MLFLOW_TRACKING_PASSWORD"),
            Token = read("MLFLOW_TRACKING_TOKEN"),
        };
        if (TrackingUriProblem(options.TrackingUri) is { } problem)
        {
            throw new ArgumentException(problem);
        }

        // Above 0.001 s (a request needs some time) and at most an hour (a run's tracking has 60 s in all anyway; a
        // billion seconds overflowed the request timer and failed every run).
        const string Timeout = "MLFLOW_HTTP_REQUEST_TIMEOUT";
        if (Number(read, Timeout, "a number of seconds from 0.001 to 3600 (empty: 20)", v => v is >= 0.001 and <= 3600) is { } seconds)
        {
            options = options with { RequestTimeout = TimeSpan.FromSeconds(seconds) };
        }

        const string Retries = "MLFLOW_HTTP_REQUEST_MAX_RETRIES";
        if (Number(read, Retries, "a whole number from 0 to 100 (empty: 4)", v => v is >= 0 and <= 100 && v == Math.Floor(v)) is { } retries)
        {
            options = options with { MaxRetries = (int)retries };
        }

        return options;
    }

    /// <summary>
    /// Why a tracking URI cannot be used, or null: a server URL must have a host; file: and folder paths are the file
    /// store; any other scheme (databricks://, ftp://, a typo) is refused rather than taken for a folder named "ftp:".
    /// </summary>
    public static string? TrackingUriProblem(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            return null;
        }

        if (uri.Trim().Length != uri.Length)
        {
            // " http://host" was taken for a folder named " http:".
            return $"MLFLOW_TRACKING_URI '{UrlCredentials.RedactUser(uri)}' has spaces around it: give the URL or path without them.";
        }

        if (uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return FileStorePath(uri, out var problem) is not { } folder ? problem : NotAFile(uri, folder);
        }

        if (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return Uri.TryCreate(uri, UriKind.Absolute, out var server) && server.Host.Length > 0
                ? null
                : $"MLFLOW_TRACKING_URI '{UrlCredentials.RedactUser(uri)}' is not a valid server URL (http(s)://host[:port]).";
        }

        var windowsDrive = uri.Length > 1 && uri[1] == ':' && char.IsAsciiLetter(uri[0]);
        return System.Text.RegularExpressions.Regex.IsMatch(uri, "^[A-Za-z][A-Za-z0-9+.-]*:") && !windowsDrive
            ? $"MLFLOW_TRACKING_URI '{UrlCredentials.RedactUser(uri)}': only http(s):// (an MLflow server), file: or a folder path are supported."
            : NotAFile(uri, uri);
    }

    // The file store is a folder: a file there fails every run's tracking.
    private static string? NotAFile(string uri, string folder) =>
        File.Exists(folder) ? $"MLFLOW_TRACKING_URI '{UrlCredentials.RedactUser(uri)}' is a file; the file store is a folder (mlruns)." : null;

    /// <summary>
    /// The folder a file: tracking URI names, as MLflow reads it: file:///abs/path and file://localhost/abs/path are
    /// /abs/path, file:relative/path is relative, %20 and the like are decoded. Null (with <paramref name="problem"/>) for
    /// a URI naming another host (new Uri() made it a UNC path, a folder literally named \\host\tmp\x) or no folder.
    /// </summary>
    public static string? FileStorePath(string uri, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(uri);
        problem = null;
        var rest = uri["file:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOf('/', 2);
            var host = slash < 0 ? rest[2..] : rest[2..slash];
            if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                problem = $"MLFLOW_TRACKING_URI '{UrlCredentials.RedactUser(uri)}' names another host ({host[(host.LastIndexOf('@') + 1)..]}); a file store is a folder on this machine: file:///path (three slashes) or a plain path.";
                return null;
            }

            rest = slash < 0 ? "" : rest[slash..];
        }

        if (rest.Length == 0)
        {
            problem = $"MLFLOW_TRACKING_URI '{UrlCredentials.RedactUser(uri)}' names no folder: file:///path/to/mlruns, file:relative/folder or a plain path.";
            return null;
        }

        return Uri.UnescapeDataString(rest);
    }

    // The value of a numeric variable within its range, null when unset or empty. One message for every way it can be
    // wrong: 'abc' and '-1' were "a number of at least 0", though 0 s and 1.5 retries are refused too.
    private static double? Number(Func<string, string?> read, string name, string expected, Func<double, bool> fits)
    {
        if (read(name) is not { Length: > 0 } text)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && fits(value)
            ? value
            : throw new ArgumentException($"{name} must be {expected}, not '{text}'.");
    }
}
