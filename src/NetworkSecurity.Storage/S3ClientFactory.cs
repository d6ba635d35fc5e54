using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace NetworkSecurity.Storage;

/// <summary>One place that turns <see cref="S3Options"/> into an S3 client (and, optionally, watches the store's clock).</summary>
internal static class S3ClientFactory
{
    public static IAmazonS3 Create(S3Options options, StoreClock? clock = null)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            MaxErrorRetry = 3,
            Timeout = TimeSpan.FromSeconds(30),
            RequestChecksumCalculation = options.DisableChunkedEncoding ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED,
            ResponseChecksumValidation = options.DisableChunkedEncoding ? ResponseChecksumValidation.WHEN_REQUIRED : ResponseChecksumValidation.WHEN_SUPPORTED,
        };
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        if (clock is not null)
        {
            config.HttpClientFactory = new ClockWatchingHttpClientFactory(clock);
        }

        // The session token goes with temporary keys: without it every request was refused (InvalidAccessKeyId), where
        // the SDK's own chain, reading the same variables, would have sent it.
        return options.AccessKey is { Length: > 0 } && options.SecretKey is { Length: > 0 }
            ? new AmazonS3Client(options.SessionToken is { } token ? new SessionAWSCredentials(options.AccessKey, options.SecretKey, token) : new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    /// <summary>An HttpClient whose handler reads the Date header of every answer into a <see cref="StoreClock"/>.</summary>
    private sealed class ClockWatchingHttpClientFactory(StoreClock clock) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            var sockets = new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // the SDK follows S3's redirects itself
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            };
            return new HttpClient(new DateWatchingHandler(clock) { InnerHandler = sockets })
            {
                Timeout = clientConfig.Timeout ?? TimeSpan.FromSeconds(100),
            };
        }

        // Null: the SDK caches the HttpClient per S3 client, so each client keeps its own clock.
        public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;
    }

    private sealed class DateWatchingHandler(StoreClock clock) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.Headers.Date is { } date)
            {
                clock.Observe(date);
            }

            return response;
        }
    }
}
