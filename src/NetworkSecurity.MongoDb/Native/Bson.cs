using System.Runtime.InteropServices;
using System.Text;

namespace NetworkSecurity.MongoDb.Native;

/// <summary>
/// A heap bson_t (bson_t is 128-byte aligned: never on the managed stack), created from Extended JSON or raw BSON
/// bytes and destroyed deterministically.
/// </summary>
public sealed class Bson : SafeHandle
{
    private Bson(IntPtr handle)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    public static Bson FromJson(string json)
    {
        NativeLibraries.EnsureLoaded();
        using var error = new BsonError();
        var bytes = Encoding.UTF8.GetBytes(json);
        var pointer = LibBson.bson_new_from_json(bytes, bytes.Length, error.Pointer);
        return pointer == IntPtr.Zero ? throw error.ToException("Invalid JSON for BSON") : new Bson(pointer);
    }

    public static Bson FromBytes(byte[] data)
    {
        NativeLibraries.EnsureLoaded();
        var pointer = LibBson.bson_new_from_data(data, (nuint)data.Length);
        return pointer == IntPtr.Zero ? throw new MongoException(0, 0, "Invalid BSON data.") : new Bson(pointer);
    }

    /// <summary>Relaxed Extended JSON (plain numbers where types allow; {"$oid": …} etc. otherwise).</summary>
    public string ToJson() => ToJson(DangerousGetHandle(), canonical: false);

    public string ToCanonicalJson() => ToJson(DangerousGetHandle(), canonical: true);

    /// <summary>The document's bytes (bson_t: uint32 flags, uint32 len, …).</summary>
    public byte[] ToBytes()
    {
        var length = Marshal.ReadInt32(handle, 4);
        var bytes = new byte[length];
        Marshal.Copy(LibBson.bson_get_data(handle), bytes, 0, length);
        return bytes;
    }

    /// <summary>JSON of a document owned by libmongoc (e.g. from a cursor; valid only until the next call).</summary>
    internal static string ToJson(IntPtr bson, bool canonical)
    {
        var text = canonical ? LibBson.bson_as_canonical_extended_json(bson, out _) : LibBson.bson_as_relaxed_extended_json(bson, out _);
        try
        {
            return Marshal.PtrToStringUTF8(text) ?? "{}";
        }
        finally
        {
            LibBson.bson_free(text);
        }
    }

    protected override bool ReleaseHandle()
    {
        LibBson.bson_destroy(handle);
        return true;
    }
}

/// <summary>bson_error_t = { uint32 domain; uint32 code; char message[504] } (512 bytes), on the native heap.</summary>
internal sealed class BsonError : IDisposable
{
    public IntPtr Pointer { get; } = Marshal.AllocHGlobal(512);

    public BsonError() => Marshal.WriteInt64(Pointer, 0);

    public uint Domain => (uint)Marshal.ReadInt32(Pointer, 0);

    public uint Code => (uint)Marshal.ReadInt32(Pointer, 4);

    public string Message => Marshal.PtrToStringUTF8(Pointer + 8) ?? "";

    public MongoException ToException(string context) => new(Domain, Code, $"{context}: {Message}");

    public void Dispose() => Marshal.FreeHGlobal(Pointer);
}
