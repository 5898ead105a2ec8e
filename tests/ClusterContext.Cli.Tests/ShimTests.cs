using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Tests;

/// <summary>
/// The native shim: programs that are not .NET (coreutils, a shell, python3, curl, redis-cli, getent), run by
/// <c>clusterctx run</c> or started by a .NET app under the hook, see the pod's files, names and services through the
/// session host. None of the pod's paths exist on this machine, so a pass is the pod's doing.
/// </summary>
[Collection(SandboxGroup.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ShimTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    private static string ShimPath => Clusterctx.BuildOutput("src/ClusterContext.Cli", "hook/libclusterctx.so");

    private Task<Clusterctx.Result> RunAsync(params string[] command) =>
        Cli.RunAsync(["run", "-t", "deployment/orders", "--progress", "plain", "--", .. command]);

    [Fact]
    public async Task Cat_ls_stat_and_test_see_the_pods_files()
    {
        Assert.False(Directory.Exists("/etc/orders"), "this machine has /etc/orders of its own: the test would prove nothing");
        var script = $"""
            cat {SandboxCluster.ConfigPath}; echo
            ls /etc/orders
            ls -l {SandboxCluster.ConfigPath} | cut -d' ' -f1,5
            stat -c '%s %F' {SandboxCluster.ConfigPath}
            test -f {SandboxCluster.ConfigPath} && echo is-a-file
            test -d /etc/orders && echo is-a-directory
            test -e /etc/orders/missing || echo no-missing
            cat {SandboxCluster.SecretPath}; echo
            """;
        var run = await RunAsync("sh", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(
            [SandboxCluster.ConfigText, "appsettings.json", $"-rw-r--r-- {SandboxCluster.ConfigText.Length}", $"{SandboxCluster.ConfigText.Length} regular file",
             "is-a-file", "is-a-directory", "no-missing", SandboxCluster.SecretText],
            Lines(run.Output));
        Assert.DoesNotContain("No such file", run.Error, StringComparison.Ordinal);
        Assert.Contains("(the pod's environment, files, DNS and connections)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Python_reads_stats_and_parses_a_pod_file_and_talks_to_redis_by_its_pod_name()
    {
        var script = $$"""
            import json, os, socket
            print(json.load(open("{{SandboxCluster.ConfigPath}}"))["Orders"]["Source"])
            print(os.stat("{{SandboxCluster.ConfigPath}}").st_size, os.path.isdir("/etc/orders"), os.path.exists("/etc/orders/missing"))
            with socket.create_connection(("redis", 6379), timeout=10) as redis:
                redis.sendall(b"PING\r\n")
                print(redis.recv(64).decode().strip())
            """;
        var run = await RunAsync("python3", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["configmap", $"{SandboxCluster.ConfigText.Length} True False", "+PONG"], Lines(run.Output));
    }

    [Fact]
    public async Task Getent_curl_and_redis_cli_resolve_and_reach_the_pods_services_in_a_script_with_pipes_and_subshells()
    {
        var script = $$"""
            getent hosts redis | awk '{print $2}'
            (curl -sS --max-time 10 http://web:{{SandboxCluster.WebPort}}/; echo) | tr a-z A-Z
            echo "$(redis-cli -h redis ping)"
            """;
        var run = await RunAsync("bash", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["redis", SandboxCluster.WebBody.ToUpperInvariant(), "PONG"], Lines(run.Output));
    }

    [Fact]
    public async Task Local_paths_localhost_and_loopback_stay_this_machines()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = AcceptAndGreetAsync(listener);

        var run = await RunAsync("sh", "-c", $"cat /etc/hostname; getent hosts localhost | head -1 | cut -d' ' -f1; python3 -c \"import socket; print(socket.create_connection(('127.0.0.1', {port})).recv(16).decode())\"");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([File.ReadAllText("/etc/hostname").Trim(), "::1", "local"], Lines(run.Output).Select(l => l == "127.0.0.1" ? "::1" : l));
        await accepted.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_dotnet_app_under_the_hook_starts_sh_and_curl_and_they_see_the_pod()
    {
        var child = $"cat {SandboxCluster.ConfigPath}; curl -sS --max-time 10 http://web:{SandboxCluster.WebPort}/";
        var run = await RunAsync("dotnet", Clusterctx.AppPath, $"child:{child}");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"child:{child}\t{SandboxCluster.ConfigText}{SandboxCluster.WebBody}", run.Output.Trim());
    }

    [Fact]
    public async Task The_children_of_an_app_under_the_startup_hook_alone_see_the_pod()
    {
        // No clusterctx: DOTNET_STARTUP_HOOKS, as a user's `dotnet run` has it.
        var child = $"cat {SandboxCluster.ConfigPath}; getent hosts web | cut -d' ' -f1";
        var info = Cli.StartInfo("dotnet", [Clusterctx.AppPath, $"child:{child}"], new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = Clusterctx.HookPath,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
        }, null);
        using var app = Process.Start(info)!;
        var output = app.StandardOutput.ReadToEndAsync();
        var error = app.StandardError.ReadToEndAsync();
        await app.WaitForExitAsync();
        Assert.True(app.ExitCode == 0, await error);
        Assert.Equal($"child:{child}\t{SandboxCluster.ConfigText}{Fixture.Cluster.WebIP}", (await output).Trim());
    }

    [Fact]
    public async Task A_child_started_with_an_environment_of_its_own_keeps_the_shim()
    {
        // subprocess with env=: the child's environment has no LD_PRELOAD; the shim's execve puts it back.
        var script = $$"""
            import subprocess
            child = subprocess.run(["/bin/cat", "{{SandboxCluster.ConfigPath}}"], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
            print(child.returncode, child.stdout)
            """;
        var run = await RunAsync("python3", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"0 {SandboxCluster.ConfigText}", run.Output.Trim());
    }

    [Fact]
    public async Task A_dotnet_app_a_script_starts_is_left_to_the_startup_hook_and_joins_the_same_host()
    {
        var before = AgentContainers().Count;
        var run = await RunAsync("sh", "-c", $"dotnet {Clusterctx.AppPath} read:{SandboxCluster.ConfigPath} env:ORDERS_MODE");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([$"read:{SandboxCluster.ConfigPath}\t{SandboxCluster.ConfigText}", "env:ORDERS_MODE\tsandbox"], Lines(run.Output));
        Assert.Contains("via port-forward, session host", run.Error, StringComparison.Ordinal);
        Assert.Single(AgentContainers().Skip(before));
    }

    [Fact]
    public async Task A_forked_child_and_threads_each_get_their_own_connection_to_the_host()
    {
        var script = $$"""
            import os, socket, threading
            def read(path): return open(path).read()
            config, secret = read("{{SandboxCluster.ConfigPath}}"), read("{{SandboxCluster.SecretPath}}")
            pid = os.fork()
            if pid == 0:
                # The child asks over a connection of its own while the parent asks for another file over its own:
                # over one shared connection, each would now and then get the other's answer.
                ok = all(read("{{SandboxCluster.ConfigPath}}") == config for _ in range(300)) and socket.gethostbyname("redis") != ""
                os._exit(0 if ok else 1)
            parent = all(read("{{SandboxCluster.SecretPath}}") == secret for _ in range(300))
            results = []
            threads = [threading.Thread(target=lambda: results.append(read("{{SandboxCluster.ConfigPath}}") == config and socket.gethostbyname("web") != "")) for _ in range(8)]
            [t.start() for t in threads]; [t.join() for t in threads]
            _, status = os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status), results.count(True), parent)
            """;
        var run = await RunAsync("python3", "-c", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("0 8 True", run.Output.Trim());
    }

    [Fact]
    public async Task A_write_to_a_pod_path_reaches_the_pod_when_closed_though_the_program_is_killed_right_after()
    {
        var path = $"/tmp/clustercontext-shim-written-{Guid.NewGuid():N}.txt";
        var config = Path.Combine(Runtime, "clustercontext.json");
        await File.WriteAllTextAsync(config, """{ "fs": { "readWrite": ["^/tmp/clustercontext-shim-written-"] } }""");
        // The shell writes the file, closes it, and kills itself at once (SIGKILL: no exit handler of any kind runs).
        var run = await Cli.RunAsync("run", "-t", "deployment/orders", "-f", config, "--", "bash", "-c", $"echo written-by-bash > {path}; kill -KILL $$");
        Assert.True(run.ExitCode == 137, run.ToString());
        Assert.False(File.Exists(path), "the write went to this machine's file");

        var inPod = $"/proc/{Fixture.AppPid}/root{path}";
        await WaitForAsync(() => File.Exists(inPod) && File.ReadAllText(inPod) == "written-by-bash\n", $"{path} in the pod", seconds: 10);
        File.Delete(inPod);
    }

    [Fact]
    public async Task With_no_session_host_a_program_runs_as_without_the_shim_after_one_line_on_stderr()
    {
        var info = new ProcessStartInfo("/bin/cat", ["/etc/hostname"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["LD_PRELOAD"] = ShimPath;
        info.Environment["CLUSTERCONTEXT_SHIM_SOCKET"] = Path.Combine(Runtime, "no-host.sock");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Equal(File.ReadAllText("/etc/hostname"), await output);
        var warning = Assert.Single(Lines(await error));
        Assert.Equal($"clustercontext: the session host at {info.Environment["CLUSTERCONTEXT_SHIM_SOCKET"]} is not reachable; this program runs without the pod's context.", warning);
    }

    [Fact]
    public async Task A_statically_linked_program_is_named_with_the_fix_and_gets_the_pods_environment()
    {
        var program = await CompileAsync("static-program", """
            #include <stdio.h>
            #include <stdlib.h>
            int main(void) { const char *mode = getenv("ORDERS_MODE"); printf("mode=%s\n", mode ? mode : "unset"); return 0; }
            """, "-static");

        var run = await RunAsync(program);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("mode=sandbox", run.Output.Trim());
        Assert.Contains("static-program is statically linked: no preloaded library reaches it", run.Error, StringComparison.Ordinal);
        Assert.Contains("(the pod's environment)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pythons_http_server_receives_the_stolen_requests_of_its_pod_port_until_it_exits()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var site = Directory.CreateDirectory(Path.Combine(Runtime, "site")).FullName;
        await File.WriteAllTextAsync(Path.Combine(site, "index.html"), "served-by-python");
        var config = Path.Combine(Runtime, "clustercontext.json");
        await File.WriteAllTextAsync(config, $$"""{ "network": { "incoming": { "portMapping": { "{{port}}": {{SandboxCluster.AppPort}} } } } }""");
        var running = Cli.Start(null, site, "run", "-t", "deployment/orders", "-f", config, "--steal", "--", "python3", "-m", "http.server", $"{port}", "--bind", "127.0.0.1");
        await running.WaitForLineAsync(l => l.StartsWith("Serving HTTP on 127.0.0.1", StringComparison.Ordinal), "python3 serving");

        // From another pod, through the orders service: the request reaches python here.
        var url = $"http://{SandboxCluster.OrdersHost}:{SandboxCluster.AppPort}/";
        var stolen = await Fixture.Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", url]);
        Assert.True(stolen.ExitCode == 0, stolen.StandardError);
        Assert.Equal("served-by-python", stolen.StandardOutput);

        // Once python is gone, so is its subscription: the pod's own app answers again.
        await running.SignalAsync("INT");
        var run = await running.CompleteAsync();
        Assert.Contains($"Incoming traffic: pod port {SandboxCluster.AppPort}'s connections reach port {port} here.", run.Error, StringComparison.Ordinal);
        var after = Stopwatch.StartNew();
        string body;
        do
        {
            var again = await Fixture.Cluster.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", url]);
            body = again.StandardOutput;
            if (body != SandboxCluster.AppBody)
            {
                await Task.Delay(50); // the host sees the connection close, then the agent ends the subscription
            }
        }
        while (body != SandboxCluster.AppBody && after.Elapsed < TimeSpan.FromSeconds(20));

        Assert.Equal(SandboxCluster.AppBody, body);
    }

    [Fact]
    public async Task A_program_with_gos_build_information_is_named_with_the_fix_and_gets_the_pods_environment()
    {
        // What marks every Go binary: its build information, in a section of its own, behind Go's magic bytes.
        var program = await CompileAsync("go-program", """
            #include <stdio.h>
            #include <stdlib.h>
            __attribute__((used, section(".go.buildinfo"))) static const char info[32] = "\xff Go buildinf:\x08\x02";
            int main(void) { printf("mode=%s\n", getenv("ORDERS_MODE")); return info[0] == 0; }
            """);
        var run = await RunAsync(program);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("mode=sandbox", run.Output.Trim());
        Assert.Contains("go-program is a Go program: Go makes its own system calls", run.Error, StringComparison.Ordinal);
        Assert.Contains("CGO_ENABLED=1", run.Error, StringComparison.Ordinal);
        Assert.Contains("(the pod's environment)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_setuid_program_is_named_with_the_fix()
    {
        var program = Path.Combine(Runtime, "setuid-id");
        File.Copy("/usr/bin/id", program);
        File.SetUnixFileMode(program, File.GetUnixFileMode(program) | UnixFileMode.SetUser);

        var run = await RunAsync(program, "-u");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("setuid-id is set-user-ID or set-group-ID: the loader ignores preloaded libraries", run.Error, StringComparison.Ordinal);
        Assert.Contains("(the pod's environment)", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_is_told_its_stat_calls_miss_the_pod_and_its_reads_names_and_io_uring_setting_are_the_pods()
    {
        var script = $$"""
            const fs = require("fs");
            console.log(fs.readFileSync("{{SandboxCluster.ConfigPath}}", "utf8"), fs.existsSync("{{SandboxCluster.ConfigPath}}"), process.env.UV_USE_IO_URING);
            try { fs.statSync("{{SandboxCluster.ConfigPath}}"); console.log("stat worked"); } catch (e) { console.log(e.code); }
            require("dns").lookup("redis", { family: 4 }, (error, address) => console.log(error ? error.code : "redis resolved"));
            """;
        var run = await RunAsync("node", "-e", script);
        Assert.True(run.ExitCode == 0, run.ToString());
        // What the warning says is what happens: reads and names are the pod's, stat is not, and libuv keeps off io_uring.
        Assert.Equal([$"{SandboxCluster.ConfigText} true 0", "ENOENT", "redis resolved"], Lines(run.Output));
        Assert.Contains("node: fs.stat, fs.lstat and fs.statSync make the statx system call directly", run.Error, StringComparison.Ordinal);
    }

    private async Task<string> CompileAsync(string name, string source, params string[] options)
    {
        var file = Path.Combine(Runtime, name + ".c");
        var program = Path.Combine(Runtime, name);
        await File.WriteAllTextAsync(file, source);
        using var gcc = Process.Start(new ProcessStartInfo("gcc", [.. options, "-o", program, file]) { RedirectStandardError = true })!;
        var errors = await gcc.StandardError.ReadToEndAsync();
        await gcc.WaitForExitAsync();
        Assert.True(gcc.ExitCode == 0, $"gcc failed (the test needs gcc and libc6-dev, which ./build.sh installs): {errors}");
        return program;
    }

    private static async Task AcceptAndGreetAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync();
        await client.GetStream().WriteAsync("local"u8.ToArray());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
