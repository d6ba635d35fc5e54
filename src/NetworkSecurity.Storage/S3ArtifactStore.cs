using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging;
using NetworkSecurity.Pipeline;
using NetworkSecurity.Pipeline.Storage;
using NetworkSecurity.Pipeline.Training;
using NetworkSecurity.Storage.Replication;

namespace NetworkSecurity.Storage;

/// <summary>
/// Ships runs to S3 in the seed product's layout: Artifacts/&lt;ts&gt;/ → s3://bucket/prefix/artifact/&lt;ts&gt;/ and the
/// promoted model → s3://bucket/prefix/final_model/&lt;ts&gt;/, then final_model/LATEST names it. Uploads run in parallel
/// (bounded), large files in parts; a manifest of SHA-256 hashes per destination lets a re-sync skip unchanged files
/// (multipart ETags are not comparable across stores). Failures are reported in the result, never thrown, and one
/// sync never takes longer than <see cref="S3Options.MaxSyncTime"/>.
/// </summary>
public sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    private const string ManifestName = S3ModelSource.ManifestName;
    private readonly S3Options _options;
    private readonly IAmazonS3 _s3;
    private readonly ILogger _logger;
    private readonly S3ModelSource _models;
    private readonly Func<string, string?> _unusable;

    /// <param name="unusable">Why a version in the store cannot be served (this replica downloaded it and it did not
    /// load), or null when it can or is unknown: LATEST naming such a newer version is not kept over a good one.</param>
    public S3ArtifactStore(S3Options options, ILogger logger, Func<string, string?>? unusable = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _unusable = unusable ?? (_ => null);
        _s3 = S3ClientFactory.Create(options);
        _models = new S3ModelSource(options, _s3, ownsClient: false);
    }

    public string Description => $"s3://{_options.Bucket}/{_options.Prefix}" + (_options.ServiceUrl is { } url ? $" at {new Uri(url).Authority}" : "");

    public async Task<SyncResult> PublishAsync(string runArtifactsDirectory, string timestamp, string? promotedModelDirectory, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.MaxSyncTime);
        try
        {
            var uploaded = 0;
            var skipped = 0;
            var pointer = "";
            if (promotedModelDirectory is not null)
            {
                // The model first and LATEST last, so a reader never sees a pointer to an incomplete version; the run's
                // artifacts after that, so other replicas get the model as soon as possible.
                var (u2, s2) = await SyncFolderAsync(promotedModelDirectory, $"{_options.Prefix}final_model/{timestamp}/", budget.Token).ConfigureAwait(false);
                uploaded += u2;
                skipped += s2;
                pointer = await MoveLatestAsync(timestamp, budget.Token).ConfigureAwait(false);
            }

            if (Directory.Exists(runArtifactsDirectory)) // a model published again after a restart may have lost its run's folder
            {
                var (u1, s1) = await SyncFolderAsync(runArtifactsDirectory, $"{_options.Prefix}artifact/{timestamp}/", budget.Token).ConfigureAwait(false);
                uploaded += u1;
                skipped += s1;
            }
            else if (promotedModelDirectory is not null)
            {
                var (u1, s1) = await SyncNoteAsync(runArtifactsDirectory, timestamp, budget.Token).ConfigureAwait(false);
                uploaded += u1;
                skipped += s1;
            }

            return new SyncResult(true, uploaded, skipped, $"{uploaded} file(s) uploaded, {skipped} unchanged, to {Description}{pointer}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SyncResult(false, 0, 0, $"gave up after {_options.MaxSyncTime.TotalSeconds:0} s: {Description} did not answer in time");
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            return new SyncResult(false, 0, 0, $"could not sync to {Description}: {Describe(ex)}");
        }
    }

    public async Task<bool> TryPullLatestModelAsync(string finalModelDirectory, Action<string> verify, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(verify);
        try
        {
            return await PullLatestAsync(finalModelDirectory, verify, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("No model pulled: {Store} did not answer within {Seconds:0} s", Description, _options.MaxSyncTime.TotalSeconds);
            return false;
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or ModelVerificationException or InvalidDataException)
        {
            _logger.LogWarning("No model pulled from {Store}: {Error}", Description, Describe(ex));
            return false;
        }
    }

    private async Task<bool> PullLatestAsync(string finalModelDirectory, Action<string> verify, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.MaxSyncTime);
        LatestPointer latest;
        try
        {
            latest = await _models.CheckLatestAsync(null, budget.Token).ConfigureAwait(false);
        }
        catch (ModelVerificationException ex)
        {
            throw new InvalidDataException(ex.Message, ex);
        }

        if (latest.Version is not { } version)
        {
            return false;
        }

        var store = new ModelStore(finalModelDirectory);
        var staging = store.NewDownloadFolder();
        try
        {
            var files = await _models.DownloadVersionAsync(version, staging, ModelStore.BundleFileName, budget.Token).ConfigureAwait(false);
            // Loaded before it is made current, as the model sync does: a version whose files match their manifests but
            // do not decode (or were trained on another schema) sat in final_model/ as CURRENT, and the service fell back.
            verify(staging);
            store.Adopt(staging, version);
            _logger.LogInformation("Pulled model {Version} ({Files} files, SHA-256 verified) from {Store}", version, files, Description);
            return true;
        }
        catch (Exception ex) when (ex is ModelVerificationException or PipelineException or InvalidDataException)
        {
            throw new InvalidDataException($"model {version} in {Description} was not used: {ModelStore.Unstaged(ex.Message, staging, version)}", ex);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>
    /// Points LATEST at <paramref name="version"/> unless it already names a newer one (versions are UTC timestamps, so
    /// they sort by time): a publication retried late never moves replicas backwards.
    /// </summary>
    private async Task<string> MoveLatestAsync(string version, CancellationToken cancellationToken)
    {
        LatestPointer current;
        try
        {
            current = await _models.CheckLatestAsync(null, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelVerificationException)
        {
            current = new LatestPointer(LatestState.Missing, null, null); // garbage in LATEST: overwrite it
        }

        if (current.Version is { } newer && string.CompareOrdinal(newer, version) > 0)
        {
            // A newer name is only worth keeping when it is a version: a pointer to nothing (a hand-edited LATEST, a
            // version never completely published) would otherwise hold every replica back until the clock passes it.
            if (await _models.VersionProblemAsync(newer, ModelStore.BundleFileName, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                _logger.LogWarning("LATEST in {Store} names {Newer}, which is not a published version ({Problem}): pointing it at {Version}", Description, newer, problem, version);
            }
            else if (_unusable(newer) is { } unusable)
            {
                // Complete, but its files do not load (replaced by hand, another schema): kept, it held every replica on
                // the model before it, and each newly trained one stayed on the replica that trained it.
                _logger.LogWarning("LATEST in {Store} names {Newer}, which cannot be served ({Problem}): pointing it at {Version}", Description, newer, unusable, version);
            }
            else
            {
                _logger.LogWarning("LATEST in {Store} already names {Newer}, newer than {Version}: left as is", Description, newer, version);
                return $"; LATEST left at the newer {newer}, so replicas keep that one";
            }
        }

        await PutTextAsync($"{_options.Prefix}final_model/LATEST", version, cancellationToken).ConfigureAwait(false);
        return $"; LATEST = {version}";
    }

    /// <summary>
    /// The run's artifacts in the store are what marks its publication finished (<see cref="S3ModelSource.RunPublishedAsync"/>).
    /// Without its run's folder here (pruned, or a version promoted before object storage was set up) nothing marked it:
    /// after LATEST was pointed back at an older version by hand, every restart took the publication for one cut short
    /// and moved LATEST forward again, undoing the rollback. A note stands in for the artifacts, saying why there are none.
    /// </summary>
    private async Task<(int Uploaded, int Skipped)> SyncNoteAsync(string runArtifactsDirectory, string timestamp, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"ns-artifacts-note-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, NoArtifactsNote),
                $"Model {timestamp} was published without its run's artifacts: the folder {Path.GetFileName(runArtifactsDirectory)} was not in the publishing replica's artifacts folder (removed, or the model was promoted before object storage was set up).\n",
                cancellationToken).ConfigureAwait(false);
            return await SyncFolderAsync(folder, $"{_options.Prefix}artifact/{timestamp}/", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The file published in place of a run's artifacts that were not there (see <see cref="SyncNoteAsync"/>).</summary>
    public const string NoArtifactsNote = "NO_ARTIFACTS.txt";

    private async Task<(int Uploaded, int Skipped)> SyncFolderAsync(string folder, string prefix, CancellationToken cancellationToken)
    {
        var previous = await ReadManifestAsync(prefix + ManifestName, cancellationToken).ConfigureAwait(false);
        // A file counts as unchanged only while the store still holds it at its size: one deleted or replaced in the
        // bucket since (by hand, a lifecycle rule) was skipped at every retry, and every retry failed the check below.
        var kept = previous.Count > 0 ? await ListSizesAsync(prefix, cancellationToken).ConfigureAwait(false) : [];
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Path: f, Key: Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(f => !f.Key.StartsWith('.'))
            .ToArray();
        var manifest = new Dictionary<string, string>(StringComparer.Ordinal);
        var uploaded = 0;
        var skipped = 0;
        var done = 0;
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = cancellationToken }, async (file, ct) =>
        {
            var hash = await HashAsync(file.Path, ct).ConfigureAwait(false);
            lock (manifest)
            {
                manifest[file.Key] = hash;
            }

            if (previous.TryGetValue(file.Key, out var old) && old == hash
                && kept.TryGetValue(prefix + file.Key, out var size) && size == new FileInfo(file.Path).Length)
            {
                Interlocked.Increment(ref skipped);
            }
            else
            {
                await UploadAsync(file.Path, prefix + file.Key, ct).ConfigureAwait(false);
                Interlocked.Increment(ref uploaded);
            }

            var count = Interlocked.Increment(ref done);
            if (count % 50 == 0 || count == files.Length)
            {
                _logger.LogInformation("Sync to {Prefix}: {Done}/{Total} files", prefix, count, files.Length);
            }
        }).ConfigureAwait(false);

        var manifestText = JsonSerializer.Serialize(manifest);
        await PutTextAsync(prefix + ManifestName, manifestText, cancellationToken).ConfigureAwait(false);
        await VerifyStoredAsync(prefix, files.ToDictionary(f => prefix + f.Key, f => new FileInfo(f.Path).Length, StringComparer.Ordinal), manifestText, cancellationToken).ConfigureAwait(false);
        return (uploaded, skipped);
    }

    /// <summary>
    /// Checks that the store kept what it was sent: the manifest read back byte for byte, and every file at its size.
    /// A store that does not understand aws-chunked uploads answers 200 and keeps the chunk framing as the object
    /// (s3rver does): without this check the run said "published" and every replica refused the version.
    /// </summary>
    private async Task VerifyStoredAsync(string prefix, Dictionary<string, long> sizes, string manifestText, CancellationToken cancellationToken)
    {
        string kept;
        using (var response = await _s3.GetObjectAsync(_options.Bucket, prefix + ManifestName, cancellationToken).ConfigureAwait(false))
        using (var reader = new StreamReader(response.ResponseStream))
        {
            kept = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        var stored = await ListSizesAsync(prefix, cancellationToken).ConfigureAwait(false);
        var wrong = sizes.Where(f => !stored.TryGetValue(f.Key, out var size) || size != f.Value)
            .Select(f => $"{f.Key[prefix.Length..]} ({f.Value} bytes sent, {(stored.TryGetValue(f.Key, out var size) ? $"{size} kept" : "missing")})")
            .ToArray();
        if (kept != manifestText || wrong.Length > 0)
        {
            var what = wrong.Length > 0 ? string.Join(", ", wrong.Take(3)) + (wrong.Length > 3 ? $" and {wrong.Length - 3} more" : "") : $"{ManifestName} read back differs";
            var hint = _options.DisableChunkedEncoding ? "" : "; a store that does not understand aws-chunked uploads does this: set S3_DISABLE_CHUNKED_ENCODING=true";
            throw new StoredObjectMismatchException($"{Description} did not keep what it was sent under {prefix}: {what}{hint}");
        }
    }

    private async Task UploadAsync(string path, string key, CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        if (length <= _options.MultipartThreshold)
        {
            await _s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                FilePath = path,
                UseChunkEncoding = !_options.DisableChunkedEncoding,
            }, cancellationToken).ConfigureAwait(false);
            return;
        }

        var start = await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var partNumber = 1;
            for (long offset = 0; offset < length; offset += _options.PartSize, partNumber++)
            {
                var response = await _s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _options.Bucket,
                    Key = key,
                    UploadId = start.UploadId,
                    PartNumber = partNumber,
                    FilePath = path,
                    FilePosition = offset,
                    PartSize = Math.Min(_options.PartSize, length - offset),
                    UseChunkEncoding = !_options.DisableChunkedEncoding,
                }, cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(partNumber, response.ETag));
            }

            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                UploadId = start.UploadId,
                PartETags = parts,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await _s3.AbortMultipartUploadAsync(_options.Bucket, key, start.UploadId, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException)
            {
                // Some S3-compatible stores do not implement abort; the upload is abandoned either way.
            }

            throw;
        }
    }

    private async Task<Dictionary<string, string>> ReadManifestAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(_options.Bucket, key, cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<Dictionary<string, string>>(response.ResponseStream, cancellationToken: cancellationToken).ConfigureAwait(false) ?? [];
        }
        catch (AmazonServiceException ex) when (ex.StatusCode == HttpStatusCode.NotFound) // also a body that does not parse (S3Errors)
        {
            return [];
        }
        catch (JsonException ex)
        {
            // What an earlier attempt left is no manifest (a body mangled by aws-chunked encoding, an upload cut short):
            // nothing there can be trusted, so every file is sent again. Throwing here failed every retry for good.
            _logger.LogWarning("{Key} in {Bucket} is not a valid manifest ({Error}): every file under it is uploaded again", key, _options.Bucket, ex.Message);
            return [];
        }
    }

    private Task PutTextAsync(string key, string text, CancellationToken cancellationToken) =>
        _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            ContentBody = text,
            UseChunkEncoding = !_options.DisableChunkedEncoding,
        }, cancellationToken);

    private async Task<Dictionary<string, long>> ListSizesAsync(string prefix, CancellationToken cancellationToken) =>
        (await S3Listing.ObjectsAsync(_s3, _options.Bucket, prefix, cancellationToken).ConfigureAwait(false))
            .ToDictionary(o => o.Key, o => o.Size ?? -1, StringComparer.Ordinal);

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A store error in words: the bucket missing, credentials refused, or the store's code and message.</summary>
    internal static string Describe(Exception ex) => ex switch
    {
        AmazonS3Exception s3 when s3.StatusCode == HttpStatusCode.NotFound && s3.ErrorCode == "NoSuchBucket" => "the bucket does not exist",
        AmazonS3Exception s3 when s3.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized => $"access denied ({s3.ErrorCode}): check the credentials",
        AmazonServiceException service => $"{service.ErrorCode ?? service.StatusCode.ToString()}: {service.Message}",
        InvalidDataException data => data.Message, // already says what its cause said
        _ => ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message,
    };

    public void Dispose()
    {
        _models.Dispose();
        _s3.Dispose();
    }
}

/// <summary>The store answered success but kept other bytes than it was sent.</summary>
public sealed class StoredObjectMismatchException(string message) : IOException(message);
