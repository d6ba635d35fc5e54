using System.Runtime.InteropServices;

namespace NetworkSecurity.MongoDb.Native;

/// <summary>The few libmongoc 1.x functions the product needs. Signatures from mongoc/*.h (C bool = 1 byte).</summary>
internal static class LibMongoc
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void LogHandler(int level, IntPtr domain, IntPtr message, IntPtr userData);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern void mongoc_init();

    [DllImport(NativeLibraries.Mongoc)]
    public static extern void mongoc_log_set_handler(LogHandler? handler, IntPtr userData);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern IntPtr mongoc_uri_new_with_error([MarshalAs(UnmanagedType.LPUTF8Str)] string uri, IntPtr error);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern void mongoc_uri_destroy(IntPtr uri);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern IntPtr mongoc_client_pool_new(IntPtr uri);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern void mongoc_client_pool_destroy(IntPtr pool);

    [DllImport(NativeLibraries.Mongoc)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool mongoc_client_pool_set_error_api(IntPtr pool, int version);

    [DllImport(NativeLibraries.Mongoc)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool mongoc_client_pool_set_appname(IntPtr pool, [MarshalAs(UnmanagedType.LPUTF8Str)] string appName);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern IntPtr mongoc_client_pool_pop(IntPtr pool);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern void mongoc_client_pool_push(IntPtr pool, IntPtr client);

    [DllImport(NativeLibraries.Mongoc)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool mongoc_client_command_simple(IntPtr client, [MarshalAs(UnmanagedType.LPUTF8Str)] string database, IntPtr command, IntPtr readPrefs, IntPtr reply, IntPtr error);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern IntPtr mongoc_client_get_collection(IntPtr client, [MarshalAs(UnmanagedType.LPUTF8Str)] string database, [MarshalAs(UnmanagedType.LPUTF8Str)] string collection);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern void mongoc_collection_destroy(IntPtr collection);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern IntPtr mongoc_collection_find_with_opts(IntPtr collection, IntPtr filter, IntPtr opts, IntPtr readPrefs);

    [DllImport(NativeLibraries.Mongoc)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool mongoc_cursor_next(IntPtr cursor, out IntPtr document);

    [DllImport(NativeLibraries.Mongoc)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool mongoc_cursor_error(IntPtr cursor, IntPtr error);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern void mongoc_cursor_destroy(IntPtr cursor);

    [DllImport(NativeLibraries.Mongoc)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool mongoc_collection_insert_many(IntPtr collection, IntPtr[] documents, nuint count, IntPtr opts, IntPtr reply, IntPtr error);

    [DllImport(NativeLibraries.Mongoc)]
    [return: MarshalAs(UnmanagedType.U1)]
    public static extern bool mongoc_collection_drop_with_opts(IntPtr collection, IntPtr opts, IntPtr error);

    [DllImport(NativeLibraries.Mongoc)]
    public static extern long mongoc_collection_count_documents(IntPtr collection, IntPtr filter, IntPtr opts, IntPtr readPrefs, IntPtr reply, IntPtr error);
}

/// <summary>The libbson functions used to pass documents as Extended JSON.</summary>
internal static class LibBson
{
    [DllImport(NativeLibraries.Bson)]
    public static extern IntPtr bson_new_from_json(byte[] data, nint length, IntPtr error);

    [DllImport(NativeLibraries.Bson)]
    public static extern IntPtr bson_new_from_data(byte[] data, nuint length);

    [DllImport(NativeLibraries.Bson)]
    public static extern IntPtr bson_as_relaxed_extended_json(IntPtr bson, out nuint length);

    [DllImport(NativeLibraries.Bson)]
    public static extern IntPtr bson_as_canonical_extended_json(IntPtr bson, out nuint length);

    [DllImport(NativeLibraries.Bson)]
    public static extern IntPtr bson_get_data(IntPtr bson);

    [DllImport(NativeLibraries.Bson)]
    public static extern void bson_free(IntPtr memory);

    [DllImport(NativeLibraries.Bson)]
    public static extern void bson_destroy(IntPtr bson);
}
