using System.Runtime.InteropServices;

namespace NetworkSecurity.Pipeline.Artifacts;

/// <summary>
/// Whether an existing path is a regular file. .NET reports devices, pipes and sockets as ordinary files, and a
/// write-then-rename over one replaces it (as root, /dev/null with a file): the type comes from stat(2), through the
/// runtime's own native shim, which ships with .NET on every Unix.
/// </summary>
public static class FileKind
{
    private const int TypeMask = 0xF000;
    private const int Regular = 0x8000;

    /// <summary>
    /// Why <paramref name="path"/> cannot be read as a configuration file (<paramref name="what"/>, e.g. "Grid file"), or
    /// null: missing, a folder, or a device, pipe or socket (reading a pipe with no writer waits for ever).
    /// </summary>
    public static string? ReadableFileProblem(string path, string what) =>
        Directory.Exists(path) ? $"{what} '{path}' is a folder; give the file."
        : !File.Exists(path) ? $"{what} '{path}' does not exist."
        : !IsRegularFile(path) ? $"{what} '{path}' is not a regular file (a device, pipe or socket)."
        : null;

    /// <summary>False for a device, pipe or socket (links followed); true for a regular file, or where stat is unavailable.</summary>
    public static bool IsRegularFile(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        try
        {
            var status = new byte[256]; // FileStatus: Flags (int), then Mode (int); the rest is not read
            return Stat(path, status) != 0 || (BitConverter.ToInt32(status, 4) & TypeMask) == Regular;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return true;
        }
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] status);
}
