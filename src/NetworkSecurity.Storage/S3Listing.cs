using Amazon.S3;
using Amazon.S3.Model;

namespace NetworkSecurity.Storage;

/// <summary>Every object under a prefix, page after page (a listing answers at most 1,000 keys at a time).</summary>
internal static class S3Listing
{
    public static async Task<List<S3Object>> ObjectsAsync(IAmazonS3 s3, string bucket, string prefix, CancellationToken cancellationToken)
    {
        var objects = new List<S3Object>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await s3.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            objects.AddRange(response.S3Objects ?? []); // null, not empty, when a page has none (SDK v4)
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return objects;
    }
}
