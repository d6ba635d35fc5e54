using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace NetworkSecurity.Storage.Replication;

/// <summary>What final_model/LATEST said on the last check.</summary>
public enum LatestState
{
    /// <summary>Same ETag as the caller already knew: nothing was downloaded.</summary>
    Unchanged,

    /// <summary>No LATEST object: nothing was published yet.</summary>
    Missing,

    Found,
}

public sealed record LatestPointer(LatestState State, string? Version, string? ETag);

/// <summary>A published version whose files are missing, truncated or do not match the publisher's SHA-256 manifest.</summary>
public sealed class ModelVerificationException(string message) : Exception(message);

/// <summary>
/// Reads promoted models back from s3://bucket/prefix/final_model/: polls LATEST with a conditional GET (an unchanged
/// pointer costs one small request answered 304) and downloads a version into a folder, checking every file against
/// the SHA-256 manifest the publisher writes beside the files (.manifest.json). A version counts as published only
/// when LATEST names it, and LATEST is written after the files and the manifest (see <see cref="S3ArtifactStore"/>).
/// </summary>
public sealed partial class S3ModelSource : IDisposable
{
    internal const string ManifestName = ".manifest.json";
    private readonly S3Options _options;
    private readonly IAmazonS3 _s3;
    private readonly bool _ownsClient;

    public S3ModelSource(S3Options options)
        : this(options, S3ClientFactory.Create(options), ownsClient: true)
    {
    }

    internal S3ModelSource(S3Options options, IAmazonS3 s3, bool ownsClient)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _s3 = s3;
        _ownsClient = ownsClient;
    }

    public string Description => Describe("");

    /// <summary>"s3://bucket/prefix/final_model/&lt;rest&gt;", plus the endpoint for S3-compatible stores (no secrets).</summary>
    public string Describe(string rest) => $"s3://{_options.Bucket}/{_options.Prefix}final_model/{rest}" + (_options.ServiceUrl is { } url ? $" at {new Uri(url).Authority}" : "");

    public string LatestKey => $"{_options.Prefix}final_model/LATEST";

    // An object named in a message: with its bucket, as the sync's log lines name nothing else.
    private string At(string key) => $"s3://{_options.Bucket}/{key}";

    private const int MaxLatestLength = 200;

    /// <summary>
    /// Reads LATEST unless its ETag is still <paramref name="knownETag"/>. Throws the SDK's exceptions on outages and
    /// <see cref="ModelVerificationException"/> when LATEST holds something that is not a version name.
    /// </summary>
    public async Task<LatestPointer> CheckLatestAsync(string? knownETag, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _options.Bucket,
                Key = LatestKey,
                EtagToNotMatch = knownETag,
            }, cancellationToken).ConfigureAwait(false);
            if (response.HttpStatusCode == HttpStatusCode.NotModified)
            {
                return new LatestPointer(LatestState.Unchanged, null, knownETag);
            }

            // At most 201 characters are read: a LATEST of gigabytes (written by mistake) is refused, not downloaded.
            using var reader = new StreamReader(response.ResponseStream);
            var buffer = new char[MaxLatestLength + 1];
            var length = 0;
            for (int read; length < buffer.Length && (read = await reader.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0;)
            {
                length += read;
            }

            var text = new string(buffer, 0, length);
            var version = text.Trim();
            if (text.Length > MaxLatestLength || !IsVersionName(version))
            {
                throw new ModelVerificationException($"{At(LatestKey)} does not hold a version name (got '{(version.Length > 40 ? version[..40] + "…" : version)}').");
            }

            return new LatestPointer(LatestState.Found, version, response.ETag);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotModified)
        {
            return new LatestPointer(LatestState.Unchanged, null, knownETag);
        }
        catch (AmazonServiceException ex) when (S3Errors.IsMissingObject(ex))
        {
            return new LatestPointer(LatestState.Missing, null, null);
        }
    }

    /// <summary>
    /// Downloads every file the version's manifest lists into <paramref name="targetFolder"/> (which must be empty or
    /// absent) and checks each SHA-256. Returns the number of files. A missing manifest, a missing file or a wrong hash
    /// throws <see cref="ModelVerificationException"/>; outages throw the SDK's exceptions.
    /// </summary>
    public async Task<int> DownloadVersionAsync(string version, string targetFolder, string requiredFile, CancellationToken cancellationToken)
    {
        if (!IsVersionName(version))
        {
            throw new ModelVerificationException($"'{version}' is not a version name.");
        }

        var prefix = $"{_options.Prefix}final_model/{version}/";
        var manifest = await ReadManifestAsync(prefix, cancellationToken).ConfigureAwait(false);
        if (!manifest.ContainsKey(requiredFile))
        {
            throw new ModelVerificationException($"{At(prefix + ManifestName)} does not list {requiredFile}: not a model version.");
        }

        Directory.CreateDirectory(targetFolder);
        var root = Path.GetFullPath(targetFolder);
        await Parallel.ForEachAsync(manifest, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            var target = Path.GetFullPath(Path.Combine(root, entry.Key.Replace('/', Path.DirectorySeparatorChar)));
            if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || entry.Key.StartsWith('.'))
            {
                throw new ModelVerificationException($"{At(prefix + ManifestName)} names a file outside the version folder: '{entry.Key}'.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                using var response = await _s3.GetObjectAsync(_options.Bucket, prefix + entry.Key, ct).ConfigureAwait(false);
                await using var file = File.Create(target);
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await response.ResponseStream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                }

                var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
                if (!string.Equals(hash, entry.Value, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ModelVerificationException($"{At(prefix + entry.Key)} is corrupt: SHA-256 {hash[..12]}… but the manifest says {entry.Value[..Math.Min(12, entry.Value.Length)]}….");
                }
            }
            catch (AmazonServiceException ex) when (S3Errors.IsMissingObject(ex))
            {
                throw new ModelVerificationException($"{At(prefix + entry.Key)} is listed in the manifest but missing.");
            }
        }).ConfigureAwait(false);
        return manifest.Count;
    }

    /// <summary>
    /// Why <paramref name="version"/> is not a published model version (no manifest, or one without
    /// <paramref name="requiredFile"/>), or null when its manifest is in place. One GET: the files are not checked.
    /// </summary>
    public async Task<string?> VersionProblemAsync(string version, string requiredFile, CancellationToken cancellationToken)
    {
        var prefix = $"{_options.Prefix}final_model/{version}/";
        try
        {
            var manifest = await ReadManifestAsync(prefix, cancellationToken).ConfigureAwait(false);
            return manifest.ContainsKey(requiredFile) ? null : $"{At(prefix + ManifestName)} does not list {requiredFile}";
        }
        catch (ModelVerificationException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Whether the run of <paramref name="version"/> finished publishing: its artifacts go up last (after the model and
    /// LATEST), so their manifest in place means LATEST was moved to it at some point.
    /// </summary>
    public async Task<bool> RunPublishedAsync(string version, CancellationToken cancellationToken)
    {
        try
        {
            await ReadManifestAsync($"{_options.Prefix}artifact/{version}/", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ModelVerificationException)
        {
            return false;
        }
    }

    private async Task<Dictionary<string, string>> ReadManifestAsync(string prefix, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(_options.Bucket, prefix + ManifestName, cancellationToken).ConfigureAwait(false);
            var manifest = await JsonSerializer.DeserializeAsync<Dictionary<string, string?>>(response.ResponseStream, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (manifest is not { Count: > 0 })
            {
                throw new ModelVerificationException($"{At(prefix + ManifestName)} is empty.");
            }

            // Every entry must be a SHA-256: a null or malformed hash failed the comparison with a NullReferenceException,
            // which the model sync took for an outage and downloaded the version again at every poll.
            if (manifest.FirstOrDefault(entry => !IsSha256(entry.Value)) is { Key: { } key, Value: var hash })
            {
                throw new ModelVerificationException($"{At(prefix + ManifestName)} is not a valid manifest: the entry '{key}' has {(hash is null ? "no hash" : $"'{(hash.Length > 20 ? hash[..20] + "…" : hash)}'")}, not a SHA-256 (64 hex digits).");
            }

            return manifest.ToDictionary(entry => entry.Key, entry => entry.Value!, StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new ModelVerificationException($"{At(prefix + ManifestName)} is not a valid manifest: {ex.Message}");
        }
        catch (AmazonServiceException ex) when (S3Errors.IsMissingObject(ex))
        {
            throw new ModelVerificationException($"{At(prefix + ManifestName)} is missing: the version was not (completely) published.");
        }
    }

    private static bool IsSha256(string? hash) => hash is { Length: 64 } && hash.All(char.IsAsciiHexDigit);

    public static bool IsVersionName(string version) => VersionPattern().IsMatch(version) && !version.Contains("..", StringComparison.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex VersionPattern();

    public void Dispose()
    {
        if (_ownsClient)
        {
            _s3.Dispose();
        }
    }
}
