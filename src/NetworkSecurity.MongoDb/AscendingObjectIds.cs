using System.Buffers.Binary;
using System.Security.Cryptography;
using MongoDB.Bson;

namespace NetworkSecurity.MongoDb;

/// <summary>
/// ObjectIds that ascend in the order they are made in this process, for push-data: training reads by <c>_id</c> and
/// must see the file's order. The driver's ids end in a 3-byte counter that starts at a random value and wraps, so in
/// about 1 load in 1,500 of the bundled data set later records got smaller ids (and a clock stepped back did the same).
/// Laid out as MongoDB's (seconds, 5 random bytes, counter); a second runs ahead when its 16.7 million ids are used.
/// </summary>
internal static class AscendingObjectIds
{
    private static readonly byte[] ProcessRandom = RandomNumberGenerator.GetBytes(5);
    private static readonly Lock Gate = new();
    private static long _seconds;
    private static int _counter;

    public static ObjectId Next()
    {
        long seconds;
        int counter;
        lock (Gate)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (now > _seconds)
            {
                (_seconds, _counter) = (now, 0);
            }
            else if (++_counter > 0x00FFFFFF)
            {
                (_seconds, _counter) = (_seconds + 1, 0);
            }

            (seconds, counter) = (_seconds, _counter);
        }

        var bytes = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)seconds);
        ProcessRandom.CopyTo(bytes, 4);
        bytes[9] = (byte)(counter >> 16);
        bytes[10] = (byte)(counter >> 8);
        bytes[11] = (byte)counter;
        return new ObjectId(bytes);
    }
}
