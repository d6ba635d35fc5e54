using System.Diagnostics;
using NetworkSecurity.Pipeline.Tracking;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>The commit a run is tagged with (mlflow.source.git.commit), read from real repositories made by git.</summary>
public sealed class GitCommitTests
{
    private static string Git(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git {string.Join(' ', arguments)}: {error}");
        return output.Trim();
    }

    private static string NewRepository(TempDirectory dir)
    {
        var repository = Path.Combine(dir.Path, "repo");
        Directory.CreateDirectory(repository);
        Git(repository, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(repository, "a.txt"), "a");
        Git(repository, "add", "a.txt");
        Git(repository, "commit", "-q", "-m", "first");
        return repository;
    }

    [Fact]
    public void A_branch_whose_ref_git_gc_packed_still_names_its_commit()
    {
        using var dir = new TempDirectory();
        var repository = NewRepository(dir);
        var head = Git(repository, "rev-parse", "HEAD");
        Assert.Equal(head, GitCommit.Read(repository)); // loose ref

        Git(repository, "pack-refs", "--all"); // what git gc does: refs/heads/main now lives in packed-refs only
        Assert.False(File.Exists(Path.Combine(repository, ".git", "refs", "heads", "main")));
        Assert.Equal(head, GitCommit.Read(repository));
    }

    [Fact]
    public void A_detached_head_and_a_linked_worktree_name_their_commits_and_no_repository_names_none()
    {
        using var dir = new TempDirectory();
        var repository = NewRepository(dir);
        var first = Git(repository, "rev-parse", "HEAD");
        File.WriteAllText(Path.Combine(repository, "b.txt"), "b");
        Git(repository, "add", "b.txt");
        Git(repository, "commit", "-q", "-m", "second");

        var worktree = Path.Combine(dir.Path, "worktree");
        Git(repository, "worktree", "add", "-q", "-b", "other", worktree, first); // .git is a "gitdir:" file there
        Assert.True(File.Exists(Path.Combine(worktree, ".git")));
        Assert.Equal(first, GitCommit.Read(worktree));

        Git(repository, "checkout", "-q", "--detach", first);
        Assert.Equal(first, GitCommit.Read(repository));
        Assert.Null(GitCommit.Read(dir.Path));
    }
}
