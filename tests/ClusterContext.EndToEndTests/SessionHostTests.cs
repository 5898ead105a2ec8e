using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The session host: hooked processes of one developer context share one host and one agent in the pod; the host
/// sends what a process writes to the pod as the file is closed, whatever happens to the process next; a host that
/// dies is replaced; and once the last process has left and the linger has passed, nothing is left: no host, no
/// agent, no socket, no lock file. Each test has a runtime folder of its own (<c>XDG_RUNTIME_DIR</c>), so its hosts
/// are its own.
/// </summary>
[Collection(TimingGroup.Name)]
public sealed class SessionHostTests(SandboxClusterFixture fixture) : IClassFixture<SandboxClusterFixture>, IDisposable
{
    private readonly string _runtime = Directory.CreateTempSubdirectory("clustercontext-runtime-").FullName;

    private string Sessions => Path.Combine(_runtime, "clustercontext");

    [Fact]
    public async Task Processes_of_one_context_share_one_host_and_one_agent_and_nothing_stays_after_the_linger()
    {
        var before = AgentContainers().Count;

        // Three processes starting at once: one host (the others' find its lock), one agent.
        var together = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => AppRun.RunAsync(Environment(linger: 5), null, "env:ORDERS_MODE")));
        var hostPid = HostPid();
        foreach (var run in together)
        {
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
        }

        // Later ones, one after the other, join the same host within its linger.
        for (var i = 0; i < 2; i++)
        {
            // The second also says where its start went (CLUSTERCONTEXT_TRACE_STARTUP), step by step, in order.
            var environment = Environment(linger: 5);
            environment["CLUSTERCONTEXT_TRACE_STARTUP"] = i == 1 ? "1" : null;
            var run = await AppRun.RunAsync(environment, null, "env:ORDERS_MODE", $"read:{SandboxCluster.ConfigPath}");
            Assert.True(run.ExitCode == 0, run.Output);
            var steps = run.Output.Split('\n').Where(l => l.StartsWith("clustercontext: startup", StringComparison.Ordinal)).ToList();
            if (i == 1)
            {
                // The host has the container's environment and mounts: the process's own session with the agent opens
                // while its hooks go in and its Main runs, so no step before Main waits for the agent.
                string[] expected = ["hook entered", "options loaded", "session host joined", "pod environment and mounts received from the session host", "hooks installed", "session ready"];
                Assert.Equal(expected.Length, steps.Count(l => expected.Any(e => l.Contains(e, StringComparison.Ordinal))));
                Assert.Equal(expected, expected.OrderBy(e => steps.FindIndex(l => l.Contains(e, StringComparison.Ordinal))));
                Assert.DoesNotContain(steps, l => l.Contains("agent session open", StringComparison.Ordinal));
                // The host's own start was before this process began: none of its steps is this start's.
                Assert.DoesNotContain(steps, l => l.Contains("session host: ", StringComparison.Ordinal));
            }
            else
            {
                Assert.Empty(steps);
            }

            Assert.Equal(SandboxCluster.ConfigText, run[$"read:{SandboxCluster.ConfigPath}"]);
            Assert.DoesNotContain("Starting agent container", run.Output, StringComparison.Ordinal);
            Assert.Equal(hostPid, HostPid());
        }

        var added = AgentContainers().Skip(before).ToList();
        Assert.Single(added);

        await WaitForAsync(() => !Directory.EnumerateFileSystemEntries(Sessions).Any(), "the host's socket, lock and log to go");
        await WaitForAsync(() => !Alive(hostPid), "the host to exit");
        var name = (string)added[0]!["name"]!;
        await WaitForAsync(() => Terminated(name), $"agent container {name} to end");
    }

    [Fact]
    public async Task The_first_process_of_a_context_traces_the_hosts_start_on_its_own_time_line()
    {
        var environment = Environment(linger: 0);
        environment["CLUSTERCONTEXT_TRACE_STARTUP"] = "1";
        var run = await AppRun.RunAsync(environment, null, "env:ORDERS_MODE");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("sandbox", run["env:ORDERS_MODE"]);

        // "clustercontext: startup  123.4 ms  step (JIT so far: ...)": the host's steps among the process's own, in the
        // order they happened, each on the process's clock.
        var steps = run.Output.Split('\n').Where(l => l.StartsWith("clustercontext: startup", StringComparison.Ordinal))
            .Select(l => l["clustercontext: startup".Length..].Trim())
            .Select(l => (Ms: double.Parse(l[..l.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture), Step: l[(l.IndexOf("ms", StringComparison.Ordinal) + 2)..].Trim()))
            .ToList();
        string[] expected =
        [
            "options loaded", "no session host runs: starting one", "session host: session host entered", "session host: session host listening",
            "session host: kubeconfig loaded", "session host: first TLS handshake with the API server", "session host: target resolved",
            "session host: agent container added to the pod", "session host: agent container running", "session host: port-forward to the agent open",
            "session host: agent handshake done", "session host: pod environment and mounts read from the agent", "session host joined", "hooks installed", "session ready",
        ];
        var found = expected.Select(e => steps.FindIndex(s => s.Step.StartsWith(e, StringComparison.Ordinal))).ToList();
        Assert.True(found.All(i => i >= 0), $"missing: {string.Join(", ", expected.Where((_, i) => found[i] < 0))}\n{run.Output}");
        // Listening and the agent's start go on at once: every other step follows the one before it.
        var ordered = expected.Where(e => e != "session host: session host listening").Select(e => steps.First(s => s.Step.StartsWith(e, StringComparison.Ordinal)).Ms).ToList();
        Assert.True(ordered.Zip(ordered.Skip(1)).All(p => p.First <= p.Second), run.Output);
        Assert.All(steps, s => Assert.InRange(s.Ms, 0, 120_000));
        await WaitForAsync(() => !Directory.Exists(Sessions) || !Directory.EnumerateFileSystemEntries(Sessions).Any(), "the host's socket, lock and log to go");
    }

    [Theory]
    [InlineData("as built", true)]
    [InlineData("without its mode, as a package's extraction leaves it", true)]
    [InlineData("refused by its loader (exit 127)", false)]
    [InlineData("naming a loader this system lacks", false)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_first_process_starts_the_native_host_where_it_runs_and_the_managed_one_where_it_does_not(string nativeHost, bool native)
    {
        // A hook folder of the test's own, its native host as the case has it.
        var folder = Path.Combine(_runtime, "hook");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(AppRun.HookPath)!))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        var executable = Path.Combine(folder, "clusterctx-session-host");
        Assert.True(File.Exists(executable), $"the build put no native session host beside the hook ({executable})");
        const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        switch (nativeHost)
        {
            case "without its mode, as a package's extraction leaves it":
                File.SetUnixFileMode(executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                break;
            case "refused by its loader (exit 127)":
                File.WriteAllText(executable, "#!/bin/sh\nexit 127\n");
                File.SetUnixFileMode(executable, Executable);
                break;
            case "naming a loader this system lacks":
                File.WriteAllText(executable, "#!/nonexistent/ld-musl-x86_64.so.1\n");
                File.SetUnixFileMode(executable, Executable);
                break;
        }

        var environment = Environment(linger: 2);
        environment["DOTNET_STARTUP_HOOKS"] = Path.Combine(folder, "ClusterContext.dll");
        var running = AppRun.StartAsync(environment, null, "env:ORDERS_MODE", $"pause:{Path.Combine(_runtime, "resume")}");
        Assert.Equal("env:ORDERS_MODE\tsandbox", await running.NextLineAsync());
        var host = File.ResolveLinkTarget($"/proc/{HostPid()}/exe", returnFinalTarget: true)!.FullName;
        var commandLine = File.ReadAllText($"/proc/{HostPid()}/cmdline").Replace('\0', ' ');
        await File.WriteAllTextAsync(Path.Combine(_runtime, "resume"), "");
        var run = await running.CompleteAsync();
        Assert.True(run.ExitCode == 0, run.Output);
        if (native)
        {
            Assert.Equal(executable, host);
            Assert.True(File.GetUnixFileMode(executable).HasFlag(UnixFileMode.UserExecute));
        }
        else
        {
            Assert.NotEqual(executable, host);
            Assert.Contains(Path.Combine(folder, "ClusterContext.SessionHost.dll"), commandLine, StringComparison.Ordinal);
        }

        await WaitForAsync(() => !Directory.EnumerateFileSystemEntries(Sessions).Any(), "the host's socket, lock and log to go");
    }

    [Fact]
    public async Task A_write_reaches_the_pod_when_the_process_is_killed_right_after_closing_the_file()
    {
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-host-write-").FullName;
        var path = $"/tmp/clustercontext-written-{Guid.NewGuid():N}.txt";
        await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"), """{ "fs": { "readWrite": ["^/tmp/clustercontext-written-"] } }""");
        try
        {
            var running = AppRun.StartAsync(Environment(linger: 5), directory, $"write:{path}=first", $"write:{path}=second", $"pause:{directory}/never");
            Assert.Equal($"write:{path}=first\tfirst", await running.NextLineAsync());
            Assert.Equal($"write:{path}=second\tsecond", await running.NextLineAsync());
            var pid = running.Id;
            running.Kill();

            // The host saw the file closed; the process had no time to send it itself (it does every 5 s, or at its end).
            await WaitForAsync(() => File.Exists(fixture.PodRoot + path) && File.ReadAllText(fixture.PodRoot + path) == "second", $"{path} in the pod to say 'second'");

            // The killed process's copies (the pod's token and secrets among them) do not stay on this machine.
            var userFolder = Path.Combine(Path.GetTempPath(), "clustercontext-0");
            await WaitForAsync(() => !Directory.EnumerateDirectories(userFolder, $"{pid}-*").Any(), $"process {pid}'s copies to be removed");
        }
        finally
        {
            File.Delete(fixture.PodRoot + path);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_killed_host_is_replaced_and_the_process_goes_on_through_the_new_one()
    {
        var resume = Path.Combine(_runtime, "resume");
        var running = AppRun.StartAsync(Environment(linger: 3), null, "env:ORDERS_MODE", $"pause:{resume}", "redis:redis");
        Assert.Equal("env:ORDERS_MODE\tsandbox", await running.NextLineAsync());
        var first = HostPid();
        using (var host = Process.GetProcessById(first))
        {
            host.Kill();
            await host.WaitForExitAsync();
        }

        // The process's next remote operation (DNS and a connection through the pod) waits for a new host and succeeds.
        await File.WriteAllTextAsync(resume, "");
        var run = await running.CompleteAsync();
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.True(run["redis:redis"] == "+PONG", run.Output);
        await WaitForAsync(() => !Directory.EnumerateFileSystemEntries(Sessions).Any(), "the new host's socket, lock and log to go");
    }

    public void Dispose() => Directory.Delete(_runtime, recursive: true);

    private Dictionary<string, string?> Environment(int linger) => new()
    {
        ["KUBECONFIG"] = fixture.Kubeconfig,
        ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
        ["CLUSTERCONTEXT_SESSION_LINGER"] = linger.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["XDG_RUNTIME_DIR"] = _runtime,
    };

    /// <summary>The pid of the host serving the test's sessions, from its lock file.</summary>
    private int HostPid()
    {
        var lockFile = Assert.Single(Directory.GetFiles(Sessions, "*.lock"));
        using var document = JsonDocument.Parse(File.ReadAllText(lockFile));
        return document.RootElement.GetProperty("pid").GetInt32();
    }

    private JsonArray AgentContainers() =>
        fixture.Cluster.Api.Get("pods", SandboxCluster.Namespace, SandboxCluster.Pod)!["spec"]!["ephemeralContainers"]?.AsArray() ?? [];

    private bool Terminated(string container) =>
        fixture.Cluster.Api.Get("pods", SandboxCluster.Namespace, SandboxCluster.Pod)!["status"]!["ephemeralContainerStatuses"]!.AsArray()
            .Any(s => (string?)s!["name"] == container && s["state"]!["terminated"] is not null);

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited 60 s for {what}.");
            await Task.Delay(50);
        }
    }
}
