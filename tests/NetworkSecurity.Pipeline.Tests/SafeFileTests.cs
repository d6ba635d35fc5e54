using NetworkSecurity.Pipeline.Artifacts;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class SafeFileTests
{
    [Fact]
    public void Real_paths_follow_every_link_along_the_way_and_keep_the_part_that_does_not_exist()
    {
        using var dir = new TempDirectory();
        var store = Directory.CreateDirectory(Path.Combine(dir.Path, "final_model")).FullName;
        File.WriteAllText(Path.Combine(store, "CURRENT"), "v1");
        var elsewhere = Directory.CreateDirectory(Path.Combine(dir.Path, "elsewhere")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "to-store"), "final_model"); // relative to the link's folder
        Directory.CreateSymbolicLink(Path.Combine(elsewhere, "chain"), Path.Combine(dir.Path, "to-store")); // a link to a link
        File.CreateSymbolicLink(Path.Combine(elsewhere, "current"), Path.Combine(store, "CURRENT"));

        Assert.Equal(Path.Combine(store, "new", "file.csv"), SafeFile.RealPath(Path.Combine(elsewhere, "chain", "new", "file.csv")));
        Assert.Equal(Path.Combine(store, "CURRENT"), SafeFile.RealPath(Path.Combine(elsewhere, "current")));
        Assert.True(SafeFile.LeadsInto(Path.Combine(elsewhere, "current"), store));
        Assert.True(SafeFile.LeadsInto(Path.Combine(dir.Path, "to-store", "x"), Path.Combine(elsewhere, "chain")));
        Assert.False(SafeFile.LeadsInto(Path.Combine(elsewhere, "out.csv"), store));
        Assert.False(SafeFile.LeadsInto(store + "-old", store)); // a sibling with the same prefix is not inside

        // A loop ends instead of recursing for ever.
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "loop-a"), Path.Combine(dir.Path, "loop-b"));
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "loop-b"), Path.Combine(dir.Path, "loop-a"));
        Assert.False(SafeFile.LeadsInto(Path.Combine(dir.Path, "loop-a", "x"), store));
    }

    [Fact]
    public void A_path_ending_with_a_separator_is_refused_as_a_folder_and_no_folder_is_made()
    {
        // export --output new/sub/ made new/sub, then failed with "Could not find a part of the path".
        using var dir = new TempDirectory();
        var output = Path.Combine(dir.Path, "new", "sub") + Path.DirectorySeparatorChar;

        var error = Assert.Throws<IOException>(() => SafeFile.WriteAllText(output, "x"));

        Assert.Equal($"'{output}' ends with '{Path.DirectorySeparatorChar}', so it names a folder; give the path of a file to write.", error.Message);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "new")));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // Unix permissions
    public void A_replaced_file_keeps_its_permissions_a_read_only_one_is_refused_and_a_long_legal_name_works()
    {
        using var dir = new TempDirectory();
        var secret = dir.File("verdicts.csv", "old");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        SafeFile.WriteAllText(secret, "new");
        Assert.Equal(("new", UnixFileMode.UserRead | UnixFileMode.UserWrite), (File.ReadAllText(secret), File.GetUnixFileMode(secret)));

        var locked = dir.File("locked.csv", "keep");
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Contains("is read-only", Assert.Throws<IOException>(() => SafeFile.WriteAllText(locked, "new")).Message);
        Assert.Equal("keep", File.ReadAllText(locked));

        // 250 bytes is a legal name; with the temporary name's prefix and suffix it was not.
        var longName = Path.Combine(dir.Path, new string('b', 246) + ".csv");
        SafeFile.WriteAllText(longName, "x");
        Assert.Equal("x", File.ReadAllText(longName));
        Assert.Equal([longName], Directory.GetFiles(dir.Path, "b*"));
    }
}
