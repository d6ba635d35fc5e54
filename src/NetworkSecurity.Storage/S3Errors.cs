using System.Net;
using Amazon.Runtime;

namespace NetworkSecurity.Storage;

/// <summary>What a store's error answer means, read from its status where its body cannot be trusted.</summary>
internal static class S3Errors
{
    /// <summary>
    /// The object is not there: a 404 other than a missing bucket. Told by the status, not only by an error body that
    /// parses: s3rver writes a key's non-ASCII letters in its 404 body as HTML entities (&amp;uuml;), which is not XML,
    /// so the SDK throws its unmarshalling error instead of an AmazonS3Exception, and with S3_PREFIX=team/ünï/ every
    /// "not there yet" (no manifest, no LATEST, a free lease) read as an outage: nothing was ever published or trained.
    /// </summary>
    public static bool IsMissingObject(AmazonServiceException ex) =>
        ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket";
}
