using System.Text;

namespace NetworkSecurity.Pipeline.Artifacts;

/// <summary>
/// Writes files through a temporary name and a rename, so readers never see half a file. A symbolic link is written
/// through (its target is replaced, the link stays); a folder, device, pipe or socket at the path is refused, never
/// replaced by a file.
/// </summary>
public static class SafeFile
{
    /// <summary>The file a write to <paramref name="path"/> replaces: the path itself, or the final target of a link.</summary>
    /// <exception cref="IOException">The path is a folder, a device, a pipe or a socket, or its folder is a file.</exception>
    public static string Target(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // "out/" names a folder even when there is none yet: the write made it and then failed on the rename with
        // "Could not find a part of the path", leaving the new folders behind.
        if (Path.EndsInDirectorySeparator(path))
        {
            throw new IOException($"'{path}' ends with '{path[^1]}', so it names a folder; give the path of a file to write.");
        }

        var target = Path.GetFullPath(path);
        if (new FileInfo(target).LinkTarget is not null)
        {
            target = File.ResolveLinkTarget(target, returnFinalTarget: true)?.FullName ?? target;
        }

        if (Directory.Exists(target))
        {
            throw new IOException($"'{path}' is a folder; give the path of a file to write.");
        }

        if (File.Exists(target) && !FileKind.IsRegularFile(target))
        {
            throw new IOException($"'{path}' is not a regular file (a device, pipe or socket); give the path of a file to write.");
        }

        for (var folder = Path.GetDirectoryName(target); !string.IsNullOrEmpty(folder); folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                throw new IOException($"Cannot write '{path}': '{folder}' is a file, not a folder.");
            }
        }

        return target;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> itself or somewhere inside it.</summary>
    /// <summary>
    /// Whether <paramref name="path"/> is <paramref name="folder"/> or inside it, as written or once symbolic links in
    /// either are followed: a link to the model folder (or to a file in it) leads there all the same.
    /// </summary>
    public static bool LeadsInto(string path, string folder) => IsWithin(path, folder) || IsWithin(RealPath(path), RealPath(folder));

    /// <summary>
    /// The absolute path with every symbolic link along it followed (as far as the path exists); the part that does
    /// not exist yet is kept as written.
    /// </summary>
    public static string RealPath(string path) => RealPath(path, 0);

    private static string RealPath(string path, int depth)
    {
        var full = Path.GetFullPath(path);
        var current = Path.GetPathRoot(full)!;
        foreach (var part in full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            // A link's target is relative to the link's folder and may pass through links itself; 40 in a row is a loop
            // (the kernel's ELOOP), where the path is left as it is.
            if (depth < 40 && new FileInfo(next).LinkTarget is { } target)
            {
                next = RealPath(Path.GetFullPath(target, current), depth + 1);
            }

            current = next;
        }

        return current;
    }

    public static bool IsWithin(string path, string folder)
    {
        var inner = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)) + Path.DirectorySeparatorChar;
        var outer = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        return inner.StartsWith(outer, StringComparison.Ordinal);
    }

    public static void WriteAllText(string path, string contents) =>
        Write(path, stream =>
        {
            var bytes = Encoding.UTF8.GetBytes(contents);
            stream.Write(bytes);
        });

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        path = Target(path);
        var temp = TempFor(path);
        try
        {
            using (var stream = Create(temp, path, useAsync: false))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            Replace(temp, path);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public static async Task WriteTextAsync(string path, Func<TextWriter, Task> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        path = Target(path);
        var temp = TempFor(path);
        try
        {
            var stream = Create(temp, path, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                await using (writer.ConfigureAwait(false))
                {
                    await write(writer).ConfigureAwait(false);
                }

                // On disk before the rename, as Write does: a crash must not leave an empty file under the real name.
                stream.Flush(flushToDisk: true);
            }

            Replace(temp, path);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>
    /// Refuses a read-only file at <paramref name="target"/> (from <see cref="Target"/>): it is not replaced behind its
    /// owner's back. Public so that a command can say so before its work, not after it.
    /// </summary>
    public static void RefuseReadOnly(string target)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(target) && (File.GetUnixFileMode(target) & UnixFileMode.UserWrite) == 0)
        {
            throw new IOException($"'{target}' is read-only; make it writable or write elsewhere.");
        }
    }

    /// <summary>
    /// The temporary file beside <paramref name="path"/>: ".name.guid.tmp", or ".guid.tmp" when the name is so long that
    /// the longer one would pass the file system's 255-byte limit on a name (a legal output name then failed).
    /// Also refuses a read-only file there.
    /// </summary>
    private static string TempFor(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        RefuseReadOnly(path);

        var name = Path.GetFileName(path);
        var guid = Guid.NewGuid().ToString("N");
        return Path.Combine(directory, Encoding.UTF8.GetByteCount(name) + guid.Length + 6 <= 255 ? $".{name}.{guid}.tmp" : $".{guid}.tmp");
    }

    // The temporary file, or why the folder cannot take it, naming the output rather than the temporary name.
    private static FileStream Create(string temp, string path, bool useAsync)
    {
        try
        {
            return new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new UnauthorizedAccessException($"'{path}' cannot be written: its folder does not allow new files (access denied).", ex);
        }
    }

    // Renames the finished file over the target, keeping an existing target's permissions (a private 0600 file of
    // verdicts became readable by everyone when replaced).
    private static void Replace(string temp, string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
        {
            File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
        }

        File.Move(temp, path, overwrite: true);
    }

    public static void WriteText(string path, Action<TextWriter> write) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            write(writer);
        });
}
