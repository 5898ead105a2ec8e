using System.Diagnostics;
using ClusterContext.Hooks.FileSystem;

namespace ClusterContext.Tests.Hooks;

/// <summary>
/// The copies of the pod's files live in 0700 folders of the user's own, and a process that died without cleaning up
/// (SIGKILL) has its folder, secrets and all, removed by the next start; a live process's folder is left alone.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CacheFolderTests
{
    [Fact]
    public async Task A_folder_a_killed_process_left_is_removed_by_the_next_start_and_a_live_ones_stays()
    {
        // A real process, killed with SIGKILL: it had no chance to clean up.
        using var victim = Process.Start(new ProcessStartInfo("sleep", ["600"]))!;
        var start = CacheFolder.StartTime(victim.Id);
        Assert.NotEqual("", start);
        var user = CacheFolder.UserFolder;
        Directory.CreateDirectory(user);
        var left = Path.Combine(user, $"{victim.Id}-{start}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(left, "files/var/run/secrets/orders"));
        await File.WriteAllTextAsync(Path.Combine(left, "files/var/run/secrets/orders/password"), "s3cret");

        var whileAlive = CacheFolder.Create();
        Assert.True(Directory.Exists(left), "a live process's folder was removed");
        victim.Kill();
        await victim.WaitForExitAsync();

        var next = CacheFolder.Create();
        Assert.False(Directory.Exists(left), "the killed process's folder, with the pod's secret, is still there");
        Assert.True(Directory.Exists(whileAlive) && Directory.Exists(next), "this live process's folders were removed");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(user));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(next));
        Assert.StartsWith(user + "/", next, StringComparison.Ordinal);
        Directory.Delete(whileAlive);
        Directory.Delete(next);
    }

    [Fact]
    public void A_reused_process_id_does_not_keep_a_dead_processs_folder()
    {
        var user = CacheFolder.UserFolder;
        Directory.CreateDirectory(user);

        // This very process's id with another start time: the folder of an earlier process that had the same id.
        var earlier = Path.Combine(user, $"{Environment.ProcessId}-1-{Guid.NewGuid():N}");
        Directory.CreateDirectory(earlier);
        CacheFolder.Sweep(user);
        Assert.False(Directory.Exists(earlier));
    }

    [Fact]
    public void A_folder_of_another_users_or_a_link_is_refused_even_for_root_who_may_change_any_folders_mode()
    {
        var root = Directory.CreateTempSubdirectory("clustercontext-owner-").FullName;
        try
        {
            var theirs = Path.Combine(root, "theirs");
            Directory.CreateDirectory(theirs);
            using (var chown = Process.Start("chown", ["65534:65534", theirs]))
            {
                chown.WaitForExit();
                Assert.Equal(0, chown.ExitCode);
            }

            var error = Assert.Throws<UnauthorizedAccessException>(() => CacheFolder.EnsureOwn(theirs));
            Assert.Contains("belongs to user 65534", error.Message, StringComparison.Ordinal);

            var link = Path.Combine(root, "link");
            var mine = Directory.CreateDirectory(Path.Combine(root, "mine")).FullName;
            Directory.CreateSymbolicLink(link, mine);
            Assert.Contains("is not a directory", Assert.Throws<UnauthorizedAccessException>(() => CacheFolder.EnsureOwn(link)).Message, StringComparison.Ordinal);

            CacheFolder.EnsureOwn(mine);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(mine));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
