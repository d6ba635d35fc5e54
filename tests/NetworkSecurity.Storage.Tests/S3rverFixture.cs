using System.Diagnostics;
using System.Text.RegularExpressions;
using NetworkSecurity.Pipeline.Tests;

namespace NetworkSecurity.Storage.Tests;

/// <summary>
/// A real S3-compatible server (s3rver, installed by scripts/prereqs/s3rver.sh) on 127.0.0.1 and a free port, with a
/// fresh data folder; stopped at the end. Signatures are not checked; the access key must be S3RVER.
/// </summary>
public sealed partial class S3rverFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private Process? _server;

    public string Endpoint { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var script = Path.Combine(TestPaths.RepositoryRoot, ".tools", "s3rver", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"s3rver is not installed at {script}: run scripts/prereqs/s3rver.sh (scripts/test.sh does).");
        }

        // node itself is the child process, so stopping it stops the server.
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--openssl-legacy-provider", script, "-d", _data.Path, "-a", "127.0.0.1", "-p", TestPorts.ForServer().ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-vhost-buckets", "-s" })
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await _server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (ListeningPattern().Match(line) is { Success: true } match)
            {
                Endpoint = $"http://127.0.0.1:{match.Groups[1].Value}";
                _ = DrainAsync(_server);
                return;
            }
        }

        throw new InvalidOperationException("s3rver did not report its port: " + await _server.StandardError.ReadToEndAsync());
    }

    private static async Task DrainAsync(Process process)
    {
        while (await process.StandardOutput.ReadLineAsync() is not null)
        {
        }
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit(5000);
        }

        _server?.Dispose();
        _data.Dispose();
        return Task.CompletedTask;
    }

    public S3Options Options(string bucket, string prefix = "") => new()
    {
        Bucket = bucket,
        Prefix = prefix,
        ServiceUrl = Endpoint,
        ForcePathStyle = true,
        DisableChunkedEncoding = true, // s3rver stores aws-chunked framing as data (see docs)
        AccessKey = "S3RVER",
        SecretKey = "S3RVER",
        MaxSyncTime = TimeSpan.FromSeconds(20),
    };

    /// <summary>A plain S3 client of the server, for a test's own checks (what is stored, raw objects).</summary>
    public Amazon.S3.AmazonS3Client Client() => new(new Amazon.Runtime.BasicAWSCredentials("S3RVER", "S3RVER"), new Amazon.S3.AmazonS3Config
    {
        ServiceURL = Endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>A new, empty bucket whose name starts with <paramref name="letter"/> (tests never share one).</summary>
    public async Task<string> NewBucketAsync(char letter)
    {
        var bucket = letter + Guid.NewGuid().ToString("N")[..12];
        using var client = Client();
        await client.PutBucketAsync(bucket);
        return bucket;
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningPattern();
}
