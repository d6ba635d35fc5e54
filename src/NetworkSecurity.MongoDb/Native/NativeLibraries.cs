using System.Reflection;
using System.Runtime.InteropServices;

namespace NetworkSecurity.MongoDb.Native;

/// <summary>
/// Resolves "mongoc" and "bson" to the runtime packages' versioned files (libmongoc-1.0.so.0, libbson-1.0.so.0; the
/// unversioned names come only with the -dev packages) and turns a missing library into an error that says what to
/// install. Nothing is loaded until MongoDB is first used.
/// </summary>
internal static class NativeLibraries
{
    public const string Mongoc = "mongoc";
    public const string Bson = "bson";

    private static readonly Lock Gate = new();
    private static bool s_ready;

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (s_ready)
            {
                return;
            }

            try
            {
                NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // A resolver is already set for this assembly.
            }

            try
            {
                LibMongoc.mongoc_init();
            }
            catch (DllNotFoundException ex)
            {
                throw new MongoException(0, 0,
                    "The MongoDB C driver is not installed: install the Debian package libmongoc-1.0-0 (Ubuntu 24.04: libmongoc-1.0-0t64). " + ex.Message);
            }

            s_ready = true;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var candidates = name switch
        {
            Mongoc => new[] { "libmongoc-1.0.so.0", "libmongoc-1.0.so", "libmongoc-1.0.0.dylib", "mongoc-1.0.dll" },
            Bson => ["libbson-1.0.so.0", "libbson-1.0.so", "libbson-1.0.0.dylib", "bson-1.0.dll"],
            _ => [],
        };
        foreach (var candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }
}
