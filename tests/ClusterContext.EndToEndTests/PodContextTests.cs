namespace ClusterContext.EndToEndTests;

/// <summary>An unmodified app, with only DOTNET_STARTUP_HOOKS, sees the pod's environment, files, names and services.</summary>
[Collection(PodGroup.Name)]
public class PodContextTests(PodFixture pod)
{
    private Dictionary<string, string?> Environment => new()
    {
        ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
        ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
        ["ORDERS_MODE"] = null,
    };

    [Fact]
    public async Task The_pods_environment_is_applied_before_main_and_machine_variables_stay_local()
    {
        var run = await AppRun.RunAsync(Environment, null, "env:ORDERS_MODE", "env:SERVICE_NAME", "env:PATH", "env:KUBERNETES_SERVICE_HOST");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
        Assert.Equal("orders", run["env:SERVICE_NAME"]);
        Assert.Equal(System.Environment.GetEnvironmentVariable("PATH"), run["env:PATH"]);
        Assert.Equal("10.96.0.1", run["env:KUBERNETES_SERVICE_HOST"]);
    }

    [Fact]
    public async Task The_hook_keeps_its_dependencies_apart_from_the_apps_older_copies()
    {
        var run = await AppRun.RunAsync(Environment, null, "logging-version", "env:ORDERS_MODE");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("8.0.0.0", run["logging-version"]);
        Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
    }

    [Fact]
    public async Task The_hooks_own_code_runs_compiled_ahead_of_time_in_its_load_context()
    {
        // The runtime's own list of what its JIT compiled: the app's Main is there; the hook's entry, ReadyToRun, is not.
        var log = Path.Combine(Path.GetTempPath(), $"clustercontext-jit-{Guid.NewGuid():N}.txt");
        try
        {
            var environment = new Dictionary<string, string?>(Environment) { ["DOTNET_JitStdOutFile"] = log, ["DOTNET_JitDisasmSummary"] = "1" };
            var run = await AppRun.RunAsync(environment, null, "env:ORDERS_MODE");
            Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
            var compiled = await File.ReadAllLinesAsync(log);
            Assert.Contains(compiled, l => l.Contains("JIT compiled Program:", StringComparison.Ordinal));
            Assert.DoesNotContain(compiled, l => l.Contains("JIT compiled ClusterContext.Hosting.HookEntry:Start", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(log);
        }
    }

    [Fact]
    public async Task Every_file_api_reads_the_pods_file()
    {
        Assert.False(File.Exists(PodFixture.ConfigFile), "the pod-only file must not exist on this machine");
        var file = PodFixture.ConfigFile;
        var run = await AppRun.RunAsync(Environment, null,
            $"read:{file}", $"read-async:{file}", $"read-bytes:{file}", $"read-bytes-async:{file}", $"stream:{file}", $"reader:{file}",
            $"handle:{file}", $"exists:{file}", $"info:{file}", $"dir-exists:/etc/config", "list:/data/items", "getfiles:/data/items",
            "exists:/etc/config/missing.json", $"mtime:{file}");

        Assert.Equal(0, run.ExitCode);
        var text = PodFixture.ConfigText;
        foreach (var command in new[] { "read", "read-async", "stream", "reader", "handle" })
        {
            Assert.Equal(text, run[$"{command}:{file}"]);
        }

        Assert.Equal((text.Length * 2).ToString(System.Globalization.CultureInfo.InvariantCulture), run[$"read-bytes:{file}"]);
        Assert.Equal(text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), run[$"read-bytes-async:{file}"]);
        Assert.Equal("True", run[$"exists:{file}"]);
        Assert.Equal(text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), run[$"info:{file}"]);
        Assert.Equal("True", run["dir-exists:/etc/config"]);
        Assert.Equal("a.txt,b.txt", run["list:/data/items"]);
        Assert.Equal("a.txt,b.txt", run["getfiles:/data/items"]);
        Assert.Equal("False", run["exists:/etc/config/missing.json"]);
        var podTime = File.GetLastWriteTimeUtc($"/proc/{pod.Sandbox.AppPid}/root{file}");
        Assert.Equal(podTime, DateTime.Parse(run[$"mtime:{file}"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind));
    }

    [Fact]
    public async Task Local_paths_stay_local()
    {
        var local = Path.Combine(Path.GetTempPath(), $"clustercontext-e2e-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(local, "local content");
        try
        {
            var run = await AppRun.RunAsync(Environment, null, $"read:{local}", "read:/etc/hostname", "dir-exists:/usr/share/dotnet");
            Assert.Equal("local content", run[$"read:{local}"]);
            Assert.Equal((await File.ReadAllTextAsync("/etc/hostname")).Replace("\n", "\\n", StringComparison.Ordinal), run["read:/etc/hostname"]);
            Assert.Equal("True", run["dir-exists:/usr/share/dotnet"]);
        }
        finally
        {
            File.Delete(local);
        }
    }

    [Fact]
    public async Task A_write_in_read_mode_goes_to_a_local_copy_and_leaves_the_pod_alone()
    {
        var run = await AppRun.RunAsync(Environment, null, "write:/data/items/a.txt=changed locally");
        Assert.Equal("changed locally", run["write:/data/items/a.txt=changed locally"]);
        Assert.Equal("alpha", pod.ReadInPod("/data/items/a.txt"));
    }

    [Fact]
    public async Task A_missing_pod_file_is_FileNotFound()
    {
        var run = await AppRun.RunAsync(Environment, null, "read:/etc/config/missing.json");
        Assert.StartsWith("!FileNotFoundException", run["read:/etc/config/missing.json"], StringComparison.Ordinal);
        Assert.Contains("/etc/config/missing.json", run["read:/etc/config/missing.json"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_names_resolve_in_the_pod_and_other_names_locally()
    {
        var name = pod.Sandbox.RedisHostName;
        var run = await AppRun.RunAsync(Environment, null, $"dns:{name}", $"dns-async:{name}", "dns:localhost");
        Assert.Equal(pod.Sandbox.RedisIP.ToString(), run[$"dns:{name}"]);
        Assert.Equal(pod.Sandbox.RedisIP.ToString(), run[$"dns-async:{name}"]);
        Assert.Contains("127.0.0.1", run["dns:localhost"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TcpClient_reaches_the_in_cluster_redis_by_its_dns_name()
    {
        var name = pod.Sandbox.RedisHostName;
        var run = await AppRun.RunAsync(Environment, null, $"redis:{name}", $"redis-sync:{name}");
        Assert.Equal("+PONG", run[$"redis:{name}"]);
        Assert.Equal("+PONG", run[$"redis-sync:{name}"]);
    }
}

[Collection(PodGroup.Name)]
public class ConfigurationReloadTests(PodFixture pod)
{
    [Fact]
    public async Task An_edit_in_the_pod_is_pushed_so_the_next_read_sees_it()
    {
        var resume = Path.Combine(Path.GetTempPath(), $"clustercontext-e2e-push-{Guid.NewGuid():N}");
        var file = "/etc/config/pushed.json";
        await pod.Sandbox.WritePodFileAsync(file, "v1"u8.ToArray());
        try
        {
            var app = AppRun.StartAsync(new Dictionary<string, string?>
            {
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
            }, null, $"read:{file}", $"pause:{resume}", $"reader:{file}");
            Assert.Equal($"read:{file}\tv1", await app.NextLineAsync());

            // Far less than the five seconds after which an unchanged copy would be re-checked anyway.
            await pod.Sandbox.WritePodFileAsync(file, "v2"u8.ToArray());
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            await File.WriteAllTextAsync(resume, "go");
            var run = await app.CompleteAsync();

            Assert.Equal("v2", run[$"reader:{file}"]);
        }
        finally
        {
            File.Delete(resume);
        }
    }

    [Fact]
    public async Task Json_configuration_with_reload_on_change_sees_an_edit_made_in_the_pod_within_two_seconds()
    {
        var resume = Path.Combine(Path.GetTempPath(), $"clustercontext-e2e-reload-{Guid.NewGuid():N}");
        var file = "/etc/config/reload.json";
        await pod.Sandbox.WritePodFileAsync(file, """{"Orders":{"Source":"first"}}"""u8.ToArray());
        try
        {
            var app = AppRun.StartAsync(new Dictionary<string, string?>
            {
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
            }, null, $"config-reload:{file}|Orders:Source|{resume}");
            var initial = await app.NextLineAsync();
            Assert.True(initial == "config-initial\tfirst", initial);

            await pod.Sandbox.WritePodFileAsync(file, """{"Orders":{"Source":"second"}}"""u8.ToArray());
            await File.WriteAllTextAsync(resume, "go");
            var run = await app.CompleteAsync();

            var result = run[$"config-reload:{file}|Orders:Source|{resume}"];
            Assert.StartsWith("second after ", result, StringComparison.Ordinal);
            var milliseconds = int.Parse(result.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(milliseconds < 2000, result);
        }
        finally
        {
            File.Delete(resume);
        }
    }
}

[Collection(PodGroup.Name)]
public class ServiceTests(PodFixture pod)
{
    private Dictionary<string, string?> Environment => new()
    {
        ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
        ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
    };

    [Fact]
    public async Task HttpClient_calls_an_in_cluster_service_by_its_cluster_name()
    {
        var url = $"http://{pod.WebHostName}:{PodFixture.WebPort}/";
        var run = await AppRun.RunAsync(Environment, null, $"http:{url}");
        Assert.True(run[$"http:{url}"] == PodFixture.WebBody, run.Output);
    }

    [Fact]
    public async Task Tls_over_a_tunnelled_connection_reaches_an_in_cluster_https_service()
    {
        var url = $"https://{pod.WebHostName}:{PodFixture.TlsPort}/";
        var run = await AppRun.RunAsync(Environment, null, $"https-any-cert:{url}");
        Assert.True(run[$"https-any-cert:{url}"] == PodFixture.WebBody, run.Output);
    }

    [Fact]
    public async Task The_hooks_still_hold_after_half_a_million_file_and_socket_calls()
    {
        var run = await AppRun.RunAsync(Environment, null, "stress:500000", $"read:{PodFixture.ConfigFile}", $"redis:{pod.Sandbox.RedisHostName}", $"exists:{PodFixture.ConfigFile}");
        Assert.Equal("500000 exists, 100000 refused", run["stress:500000"]);
        Assert.Equal(PodFixture.ConfigText, run[$"read:{PodFixture.ConfigFile}"]);
        Assert.Equal("+PONG", run[$"redis:{pod.Sandbox.RedisHostName}"]);
        Assert.Equal("True", run[$"exists:{PodFixture.ConfigFile}"]);
    }
}

[Collection(PodGroup.Name)]
public sealed class UdpTests(PodFixture pod) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clustercontext-e2e-udp-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UdpClient_reaches_the_cluster_dns_server_through_the_pod(bool defaultLocal)
    {
        // By default every non-loopback address goes through the pod; with default local the cluster DNS server's
        // address (not one the app resolved) must be named as remote.
        if (defaultLocal)
        {
            await File.WriteAllTextAsync(Path.Combine(_directory, "clustercontext.json"), $$"""
                { "network": { "outgoing": { "default": "local", "remote": ["udp://{{pod.Sandbox.ServicesCidr}}"] } } }
                """);
        }

        var query = $"{pod.Sandbox.DnsServerIP}|{pod.Sandbox.RedisHostName}";
        var run = await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
            ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
        }, _directory, $"udp-dns:{query}", $"udp-dns-connected:{query}", $"udp-dns-async:{query}");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(pod.Sandbox.RedisIP.ToString(), run[$"udp-dns:{query}"]);
        Assert.Equal(pod.Sandbox.RedisIP.ToString(), run[$"udp-dns-connected:{query}"]);
        Assert.Equal(pod.Sandbox.RedisIP.ToString(), run[$"udp-dns-async:{query}"]);
    }

    /// <summary>A reply through the pod comes from the address the app sent to, as it would in the pod (not from the loopback relay).</summary>
    [Fact]
    public async Task A_reply_through_the_pod_comes_from_the_address_the_app_sent_to()
    {
        var query = $"{pod.Sandbox.DnsServerIP}|53|{pod.Sandbox.RedisHostName}";
        var run = await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
            ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
        }, _directory, $"udp-source:{query}");

        Assert.True(run.ExitCode == 0, run.Output);
        var server = $"{pod.Sandbox.DnsServerIP}:53";
        Assert.Equal(
            $"UdpClient.Receive={server};UdpClient.ReceiveAsync={server};Socket.ReceiveFrom={server};dual-mode Socket.ReceiveMessageFromAsync=[::ffff:{server.Replace(":53", "]:53", StringComparison.Ordinal)};"
            + $"connected Socket.ReceiveFromAsync={server} RemoteEndPoint={server}",
            run[$"udp-source:{query}"]);
    }
}

[Collection(PodGroup.Name)]
public class WriteModeTests(PodFixture pod)
{
    [Fact]
    public async Task A_write_to_a_read_write_path_reaches_the_pod()
    {
        // Volumes (ConfigMaps, Secrets) are read-only in a pod; the container's own /tmp is not.
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-write-").FullName;
        var path = $"/tmp/clustercontext-written-{Guid.NewGuid():N}.txt";
        await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"), """{ "fs": { "readWrite": ["^/tmp/clustercontext-written-"] } }""");
        try
        {
            var run = await AppRun.RunAsync(new Dictionary<string, string?>
            {
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
            }, directory, $"write:{path}=written by the app");

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("written by the app", run[$"write:{path}=written by the app"]);
            Assert.True(File.Exists($"/proc/{pod.Sandbox.AppPid}/root{path}"), run.Output);
            Assert.Equal("written by the app", pod.ReadInPod(path));
            Assert.False(File.Exists(path), "the write must not land on this machine's /tmp");
        }
        finally
        {
            File.Delete($"/proc/{pod.Sandbox.AppPid}/root{path}");
            Directory.Delete(directory, recursive: true);
        }
    }
}

[Collection(PodGroup.Name)]
public sealed class PathAndFilterRuleTests(PodFixture pod) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clustercontext-e2e-rules-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task NotFound_and_local_lists_override_the_pods_volumes()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "clustercontext.json"), """
            { "fs": { "notFound": ["^/data/items/b\\.txt$"], "local": ["^/data/items/a\\.txt$"] } }
            """);
        var run = await AppRun.RunAsync(Environment(), _directory, "exists:/data/items/b.txt", "read:/data/items/b.txt", "exists:/data/items/a.txt", $"read:{PodFixture.ConfigFile}");

        Assert.Equal("False", run["exists:/data/items/b.txt"]);
        Assert.StartsWith("!FileNotFoundException", run["read:/data/items/b.txt"], StringComparison.Ordinal);
        Assert.Equal("False", run["exists:/data/items/a.txt"]);
        Assert.Equal(PodFixture.ConfigText, run[$"read:{PodFixture.ConfigFile}"]);
    }

    [Fact]
    public async Task An_outgoing_local_filter_keeps_a_pod_side_name_local()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "clustercontext.json"), $$"""
            { "network": { "outgoing": { "local": ["tcp://{{pod.Sandbox.RedisHostName}}:6379"] } } }
            """);
        var run = await AppRun.RunAsync(Environment(), _directory, $"dns:{pod.Sandbox.RedisHostName}", $"redis-sync:{pod.Sandbox.RedisHostName}");

        // The name still resolves in the pod, but the connection is made from here, where that network is unreachable.
        Assert.Equal(pod.Sandbox.RedisIP.ToString(), run[$"dns:{pod.Sandbox.RedisHostName}"]);
        Assert.StartsWith("!SocketException", run[$"redis-sync:{pod.Sandbox.RedisHostName}"], StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
        ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
    };
}

[Collection(PodGroup.Name)]
public class LibraryModeTests(PodFixture pod)
{
    [Fact]
    public async Task A_session_started_from_code_joins_on_a_second_start_and_its_disposal_removes_the_hooks()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet", [AppRun.LibraryAppPath, PodFixture.ConfigFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.Environment["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress;
        info.Environment["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token;
        info.Environment.Remove("ORDERS_MODE");
        info.Environment.Remove("DOTNET_STARTUP_HOOKS");
        using var app = System.Diagnostics.Process.Start(info)!;
        var output = await app.StandardOutput.ReadToEndAsync();
        var errors = await app.StandardError.ReadToEndAsync();
        await app.WaitForExitAsync();

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToDictionary(p => p[0], p => p[1]);
        Assert.True(app.ExitCode == 0, output + errors);
        Assert.Equal("True", lines["joined"]);
        Assert.Equal("sandbox", lines["env"]);
        Assert.Equal(PodFixture.ConfigText, lines["read"]);
        Assert.Equal("False", lines["after-dispose"]);
    }
}
