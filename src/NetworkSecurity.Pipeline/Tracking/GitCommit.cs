namespace NetworkSecurity.Pipeline.Tracking;

/// <summary>
/// The commit checked out in a git working tree, read from the files under .git (no git process; nothing outside a
/// clone, e.g. in Docker), as git resolves it: a detached HEAD, a loose ref, or a ref that git gc moved into
/// packed-refs; .git may also be a "gitdir:" file (a linked worktree or a submodule).
/// </summary>
internal static class GitCommit
{
    public static string? Read(string workingTree)
    {
        try
        {
            var gitDirectory = GitDirectory(Path.Combine(workingTree, ".git"));
            var head = gitDirectory is null ? null : Path.Combine(gitDirectory, "HEAD");
            if (head is null || !File.Exists(head))
            {
                return null;
            }

            var text = File.ReadAllText(head).Trim();
            if (!text.StartsWith("ref: ", StringComparison.Ordinal))
            {
                return text.Length > 0 ? text : null;
            }

            // A linked worktree keeps its HEAD but shares refs with the main repository (named in "commondir").
            var reference = text[5..].Trim();
            var common = File.Exists(Path.Combine(gitDirectory!, "commondir"))
                ? Path.GetFullPath(Path.Combine(gitDirectory!, File.ReadAllText(Path.Combine(gitDirectory!, "commondir")).Trim()))
                : gitDirectory!;
            foreach (var folder in new[] { gitDirectory!, common }.Distinct())
            {
                var loose = Path.Combine(folder, reference);
                if (File.Exists(loose))
                {
                    return File.ReadAllText(loose).Trim();
                }
            }

            return Packed(Path.Combine(common, "packed-refs"), reference);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? GitDirectory(string dotGit)
    {
        if (Directory.Exists(dotGit))
        {
            return dotGit;
        }

        if (!File.Exists(dotGit))
        {
            return null;
        }

        var text = File.ReadAllText(dotGit).Trim();
        return text.StartsWith("gitdir:", StringComparison.Ordinal)
            ? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(dotGit)!, text["gitdir:".Length..].Trim()))
            : null;
    }

    // packed-refs lines: "<sha> <ref>", comments (#) and peeled tags (^<sha>) skipped.
    private static string? Packed(string packedRefs, string reference) =>
        File.Exists(packedRefs)
            ? File.ReadLines(packedRefs)
                .Select(line => line.Split(' ', 2))
                .Where(parts => parts.Length == 2 && !parts[0].StartsWith('#') && !parts[0].StartsWith('^') && parts[1].Trim() == reference)
                .Select(parts => parts[0])
                .FirstOrDefault()
            : null;
}
