using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace ClusterContext.Testing.Sandbox.Tests;

public sealed class LifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dispose_removes_every_namespace_route_process_and_file()
    {
        var stopwatch = Stopwatch.StartNew();
        var sandbox = await PodSandbox.StartAsync(new PodSandboxOptions { LoggerFactory = new TestLoggerFactory(output) });
        output.WriteLine($"start: {stopwatch.ElapsedMilliseconds} ms");
        var podProcess = sandbox.StartInPod("/usr/bin/sleep", ["60"]);
        var index = sandbox.Index;
        var pids = new[] { sandbox.AppPid, podProcess.Id };
        var tempPath = sandbox.TempPath;
        Assert.NotEmpty(SandboxResources.Remaining(index));

        stopwatch.Restart();
        await sandbox.DisposeAsync();
        output.WriteLine($"dispose: {stopwatch.ElapsedMilliseconds} ms");

        Assert.Empty(sandbox.TeardownProblems);
        Assert.Empty(SandboxResources.RemainingAfter(index, tempPath));
        Assert.DoesNotContain(pids, SandboxResources.IsAlive);
        Assert.False(Directory.Exists(tempPath));
        Assert.True(podProcess.HasExited);
        await sandbox.DisposeAsync(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => sandbox.StartInPod("/usr/bin/true", []));
    }

    [Fact]
    public async Task Two_sandboxes_run_at_once_without_reaching_each_other()
    {
        var options = new PodSandboxOptions { StartRedis = true };
        var started = await Task.WhenAll(PodSandbox.StartAsync(options), PodSandbox.StartAsync(new PodSandboxOptions { PodName = "orders-7d9f8-fghij" }));
        await using var first = started[0];
        await using var second = started[1];

        Assert.NotEqual(first.Index, second.Index);
        Assert.NotEqual(first.PodIP, second.PodIP);
        Assert.Equal([first.RedisIP], (await first.QueryDnsInPodAsync(first.RedisHostName)).Addresses);
        Assert.Equal([second.RedisIP], (await second.QueryDnsInPodAsync(second.RedisHostName)).Addresses);
        Assert.Equal("orders-7d9f8-fghij\n", File.ReadAllText($"/proc/{second.AppPid}/root/etc/hostname"));

        using var crossing = first.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var error = await Assert.ThrowsAsync<SocketException>(async () => await crossing.ConnectAsync(new IPEndPoint(second.RedisIP, PodSandbox.RedisPort)));
        Assert.Equal(SocketError.NetworkUnreachable, error.SocketErrorCode);

        // The later app's private mount namespace was copied while the earlier sandbox's /run/netns mounts existed;
        // deleting them must reach that copy too, or it would keep the earlier sandbox's namespaces alive.
        var (earlier, later) = first.AppPid < second.AppPid ? (first, second) : (second, first);
        Assert.Contains($"/run/netns/{earlier.PodNetworkNamespace}", MountsSeenBy(later.AppPid), StringComparison.Ordinal);
        await earlier.DisposeAsync();
        Assert.DoesNotContain($"/run/netns/{earlier.PodNetworkNamespace}", MountsSeenBy(later.AppPid), StringComparison.Ordinal);
    }

    private static string MountsSeenBy(int pid) =>
        SandboxResources.Run("nsenter", "-t", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "cat", "/proc/self/mountinfo");

    [Fact]
    public async Task Failed_start_names_the_step_and_leaves_nothing_behind()
    {
        var logs = new TestLoggerFactory(output);
        var options = new PodSandboxOptions { StartRedis = false, LoggerFactory = logs };
        options.AppCommand.Clear();
        options.AppCommand.Add("/nonexistent/app");

        var error = await Assert.ThrowsAsync<PodSandboxException>(() => PodSandbox.StartAsync(options));

        output.WriteLine(error.Message);
        Assert.Equal("wait for the app container", error.Step);
        Assert.Contains("/nonexistent/app", error.StandardError, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", error.Message, StringComparison.Ordinal);
        var index = Assert.IsType<int>(logs.FirstValue("Claimed", "Index"));
        var tempPath = Assert.IsType<string>(logs.FirstValue("StartFailed", "TempPath"));
        Assert.StartsWith(Path.GetTempPath(), tempPath, StringComparison.Ordinal);
        // Another test process may claim the freed number at once; RemainingAfter tells its resources from ours.
        Assert.Empty(SandboxResources.RemainingAfter(index, tempPath));
    }

    [Fact]
    public async Task Invalid_options_are_rejected_before_anything_is_created()
    {
        var relative = new PodSandboxOptions();
        relative.Files["etc/config/app.json"] = [];
        var underUsr = new PodSandboxOptions();
        underUsr.Files["/usr/share/app.json"] = [];
        var badNamespace = new PodSandboxOptions { Namespace = "Shop_1" };

        await Assert.ThrowsAsync<ArgumentException>(() => PodSandbox.StartAsync(relative));
        await Assert.ThrowsAsync<ArgumentException>(() => PodSandbox.StartAsync(underUsr));
        await Assert.ThrowsAsync<ArgumentException>(() => PodSandbox.StartAsync(badNamespace));
    }
}
