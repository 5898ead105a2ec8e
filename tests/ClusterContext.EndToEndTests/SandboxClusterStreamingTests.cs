using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// kubectl's streaming commands against the sandbox cluster, as a user types them: <c>logs</c> (tail, timestamps,
/// follow), <c>exec</c> (outputs apart, exit codes, stdin, an interactive terminal) and <c>port-forward</c>, with the
/// default kubectl (WebSocket: exec over v5.channel.k8s.io, port-forward as SPDY tunnelled in a WebSocket) and 1.29
/// (SPDY upgrades).
/// </summary>
public sealed partial class SandboxClusterStreamingTests(SandboxClusterProcess cluster) : IClassFixture<SandboxClusterProcess>
{
    private const string Pod = SandboxClusterProcess.Pod;

    [Fact]
    public async Task Logs_show_the_app_containers_lines_with_tail_and_timestamps_and_follow_sees_a_new_line()
    {
        var all = Lines(await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod));
        Assert.Contains(all, l => l.Contains("N listening on AF=2 0.0.0.0:8080", StringComparison.Ordinal));

        var tail = Lines(await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod, "--tail=2"));
        var after = Lines(await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod));
        Assert.Equal(after.TakeLast(2), tail);

        var stamped = Lines(await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod, "--timestamps"));
        Assert.Equal(after.Count, stamped.Count);
        for (var i = 0; i < stamped.Count; i++)
        {
            var match = TimestampedLine().Match(stamped[i]);
            Assert.True(match.Success, $"'{stamped[i]}' does not start with an RFC 3339 time");
            Assert.True(DateTimeOffset.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) && time <= DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.Equal(after[i], match.Groups[2].Value);
        }

        // --since and --since-time select by the lines' times; --limit-bytes cuts the text.
        Assert.Equal(after, Lines(await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod, "--since=1h")));
        Assert.Empty(Lines(await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod, $"--since-time={DateTimeOffset.UtcNow.AddMinutes(5):yyyy-MM-ddTHH:mm:ssZ}")));
        Assert.Equal(string.Join('\n', after)[..10], await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod, "--limit-bytes=10"));

        // -f from now on, with none of the lines before (--tail=0).
        using var follow = Process.Start(new ProcessStartInfo(Kubectl.Path(), [$"--kubeconfig={cluster.Kubeconfig}", "logs", "-f", "--tail=0", Pod])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var followed = new List<string>();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        follow.OutputDataReceived += (_, e) =>
        {
            lock (followed)
            {
                followed.Add(e.Data ?? "");
            }

            if (e.Data?.Contains("accepting connection from AF=2 127.0.0.1:", StringComparison.Ordinal) == true)
            {
                seen.TrySetResult();
            }
        };
        follow.BeginOutputReadLine();
        try
        {
            // A connection made after it started (from inside the pod, by exec) shows up in it. Its request may reach
            // the server after the first one, so connections are made until one is seen.
            for (var attempt = 0; attempt < 20 && !seen.Task.IsCompleted && !follow.HasExited; attempt++)
            {
                Assert.Equal("orders", Body(await Kubectl.TextAsync(cluster.Kubeconfig, "exec", Pod, "-c", "app", "--", "curl", "-s", "http://127.0.0.1:8080/")));
                await Task.WhenAny(seen.Task, Task.Delay(TimeSpan.FromSeconds(1)));
            }

            Assert.True(seen.Task.IsCompleted, $"kubectl logs -f did not show the new connection; it printed: {string.Join(" | ", followed)}");
            Assert.False(follow.HasExited);
        }
        finally
        {
            follow.Kill();
        }

        // A container the pod does not have, as the API server answers it.
        var (code, _, error) = await Kubectl.RunAsync(cluster.Kubeconfig, null, null, "get", "--raw", $"/api/v1/namespaces/shop/pods/{Pod}/log?container=nope");
        Assert.NotEqual(0, code);
        Assert.Contains($"Error from server (BadRequest): container nope is not valid for pod {Pod}", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1.29")]
    public async Task Exec_runs_in_the_app_container_with_stdout_and_stderr_apart_and_its_exit_code(string? version)
    {
        var (code, stdout, stderr) = await Kubectl.RunAsync(cluster.Kubeconfig, null, version, "exec", Pod, "-c", "app", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        Assert.Equal(3, code);
        Assert.Equal("out\n", Encoding.UTF8.GetString(stdout));
        Assert.StartsWith("err\n", stderr, StringComparison.Ordinal);
        Assert.Contains("command terminated with exit code 3", stderr, StringComparison.Ordinal);

        // The container's root and mounts (its hostname file, its ConfigMap), network namespace (the app on its loopback) and environment.
        Assert.Equal(Pod + "\n", await ExecTextAsync(version, "cat", "/etc/hostname"));
        Assert.Equal("""{"Orders":{"Source":"configmap"}}""", await ExecTextAsync(version, "cat", "/etc/orders/appsettings.json"));
        Assert.Equal("orders", Body(await ExecTextAsync(version, "curl", "-s", "http://127.0.0.1:8080/")));
        var environment = Lines(await ExecTextAsync(version, "env")).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var pod = JsonNode.Parse(await Kubectl.TextAsync(cluster.Kubeconfig, "get", "pod", Pod, "-o", "json"))!;
        foreach (var variable in pod["spec"]!["containers"]![0]!["env"]!.AsArray())
        {
            Assert.Equal((string?)variable!["value"], environment.GetValueOrDefault((string)variable["name"]!));
        }

        Assert.Equal(Pod, environment["HOSTNAME"]);
        Assert.DoesNotContain("TERM", environment.Keys);
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("DOTNET_", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1.29")]
    public async Task A_command_whose_client_leaves_is_ended(string? version)
    {
        // A sleep that names itself, so it can be told from every other process (the container shares the host's pid namespace).
        var seconds = $"301.{Random.Shared.Next(100_000, 999_999)}";
        using var client = Process.Start(new ProcessStartInfo(Kubectl.Path(version), [$"--kubeconfig={cluster.Kubeconfig}", "exec", Pod, "-c", "app", "--", "sleep", seconds])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            await WaitForAsync(() => Task.FromResult(Sleeping(seconds).Count > 0 || client.HasExited), $"sleep {seconds} to run in the pod");
            if (client.HasExited)
            {
                Assert.Fail($"kubectl exec ended ({client.ExitCode}): {await client.StandardError.ReadToEndAsync()}");
            }

            var sleeping = Assert.Single(Sleeping(seconds));

            // In the pod's network namespace, and the app container's mount namespace and root.
            var network = $"cc{cluster.SandboxIndex}-pod";
            Assert.Equal(network, Run("ip", "netns", "identify", sleeping.ToString(CultureInfo.InvariantCulture)).Trim());
            var app = Run("ip", "netns", "pids", network).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))
                .Where(pid => ReadCommandLine(pid)?.StartsWith("/usr/bin/socat\0", StringComparison.Ordinal) == true).Min();
            Assert.Equal(new FileInfo($"/proc/{app}/ns/mnt").LinkTarget, new FileInfo($"/proc/{sleeping}/ns/mnt").LinkTarget);
            Assert.Equal(new FileInfo($"/proc/{app}/root").LinkTarget, new FileInfo($"/proc/{sleeping}/root").LinkTarget);
        }
        finally
        {
            client.Kill();
        }

        await WaitForAsync(() => Task.FromResult(Sleeping(seconds).Count == 0), $"sleep {seconds} to be ended after its client left");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1.29")]
    public async Task Exec_with_stdin_passes_every_byte_through_cat(string? version)
    {
        var data = RandomNumberGenerator.GetBytes(512 * 1024);
        var (code, stdout, stderr) = await Kubectl.RunAsync(cluster.Kubeconfig, data, version, "exec", "-i", Pod, "-c", "app", "--", "cat");
        Assert.True(code == 0, stderr);
        Assert.Equal(data.Length, stdout.Length);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(stdout));

        // The end of stdin reaches the command: wc counts and ends.
        var (counted, count, _) = await Kubectl.RunAsync(cluster.Kubeconfig, data, version, "exec", "-i", Pod, "-c", "app", "--", "wc", "-c");
        Assert.Equal(0, counted);
        Assert.Equal(data.Length.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(count).Trim());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1.29")]
    public async Task Interactive_exec_gets_a_terminal_of_the_clients_size_and_ends_with_the_shells_exit_code(string? version)
    {
        // kubectl under a terminal of its own (script's pty), 101 columns by 37 rows.
        using var session = Process.Start(new ProcessStartInfo("script",
            ["-qec", $"stty cols 101 rows 37; exec {Kubectl.Path(version)} --kubeconfig={cluster.Kubeconfig} exec -it {Pod} -c app -- sh", "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await session.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, read);
                }
            }
        });
        string Seen()
        {
            lock (output)
            {
                return output.ToString();
            }
        }

        try
        {
            await session.StandardInput.WriteAsync("stty size; tty; echo TERM=$TERM; hostname\n");
            await session.StandardInput.FlushAsync();
            await WaitForAsync(() => Task.FromResult(Seen().Contains("TERM=xterm", StringComparison.Ordinal) || session.HasExited), "the shell's answers");
            var seen = Seen();
            Assert.Contains("37 101", seen, StringComparison.Ordinal);
            Assert.Matches(@"/dev/pts/\d+", seen);

            await session.StandardInput.WriteAsync("exit 7\n");
            await session.StandardInput.FlushAsync();
            await session.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(session.ExitCode == 7, $"script exited {session.ExitCode}; it showed: {Seen()}");
            await reading;
        }
        finally
        {
            if (!session.HasExited)
            {
                session.Kill(entireProcessTree: true);
            }
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("1.29")]
    public async Task Port_forward_carries_connections_in_a_row_and_in_parallel_and_stops_cleanly(string? version)
    {
        using var forward = Process.Start(new ProcessStartInfo(Kubectl.Path(version), [$"--kubeconfig={cluster.Kubeconfig}", "port-forward", $"pod/{Pod}", ":8080"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        forward.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && ForwardingLine().Match(e.Data) is { Success: true } match)
            {
                port.TrySetResult(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        forward.BeginOutputReadLine();
        var errors = forward.StandardError.ReadToEndAsync();
        try
        {
            await Task.WhenAny(port.Task, forward.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.True(port.Task.IsCompleted, $"kubectl port-forward did not start forwarding: {(forward.HasExited ? await errors : "")}");
            var local = await port.Task;
            for (var i = 0; i < 3; i++)
            {
                var response = await GetAsync(local);
                Assert.True(Body(response) == "orders", $"GET {i} through the port-forward answered '{response}'; kubectl: {(forward.HasExited ? await errors : "running")}");
            }

            var parallel = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => GetAsync(local)));
            Assert.All(parallel, response => Assert.Equal("orders", Body(response)));

            // Ctrl+C: kubectl stops forwarding and exits 0, without an error.
            using (var interrupt = Process.Start("kill", ["-INT", forward.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await interrupt.WaitForExitAsync();
            }

            await forward.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            var errorOutput = await errors;
            Assert.True(forward.ExitCode == 0, $"kubectl port-forward exited {forward.ExitCode}: {errorOutput}");
            Assert.DoesNotContain("error", errorOutput, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            if (!forward.HasExited)
            {
                forward.Kill();
            }
        }
    }

    [Fact]
    public async Task Logs_of_an_ephemeral_container_show_what_it_wrote()
    {
        // An agent container that exits at once (an option it does not know), added as kubectl debug adds one.
        var name = "probe-" + Guid.NewGuid().ToString("N")[..6];
        await Kubectl.TextAsync(cluster.Kubeconfig, "debug", Pod, "--image=clustercontext/agent:0.1.0", $"--container={name}", "--profile=general", "--", "--no-such-option");
        string? message = null;
        await WaitForAsync(async () =>
        {
            var pod = JsonNode.Parse(await Kubectl.TextAsync(cluster.Kubeconfig, "get", "pod", Pod, "-o", "json"))!;
            var status = pod["status"]!["ephemeralContainerStatuses"]!.AsArray().Single(s => (string?)s!["name"] == name)!;
            message = (string?)status["state"]!["terminated"]?["message"];
            return message is not null;
        }, $"ephemeral container {name} to end");

        // The kubelet's termination message is the log's last lines (FallbackToLogsOnError): the same text, read apart.
        var log = await Kubectl.TextAsync(cluster.Kubeconfig, "logs", Pod, "-c", name);
        Assert.NotEmpty(message!);
        Assert.Equal(message, string.Join("\n", Lines(log).TakeLast(5)));
    }

    [Fact]
    public async Task The_python_clients_exec_stream_passes_stdin_and_reads_outputs_apart_and_the_exit_code()
    {
        const string Python = "/usr/bin/python3";
        var script = Path.Combine(Path.GetTempPath(), $"exec-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, """
            import json, sys
            from kubernetes import client, config
            from kubernetes.stream import stream
            config.load_kube_config(config_file=sys.argv[1])
            ws = stream(client.CoreV1Api().connect_get_namespaced_pod_exec, sys.argv[2], "shop",
                        command=["sh", "-c", "echo out; echo err >&2; read line; echo got:$line; exit 3"],
                        stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
            ws.write_stdin("hello\n")
            out, err = "", ""
            while ws.is_open():
                ws.update(timeout=5)
                out += ws.read_stdout() if ws.peek_stdout() else ""
                err += ws.read_stderr() if ws.peek_stderr() else ""
            out += ws.read_stdout() if ws.peek_stdout() else ""
            err += ws.read_stderr() if ws.peek_stderr() else ""
            print(json.dumps({"stdout": out, "stderr": err, "code": ws.returncode}))
            """);
        try
        {
            Assert.True(File.Exists(Python), $"{Python} is missing (apt-get install python3-kubernetes)");
            using var process = Process.Start(new ProcessStartInfo(Python, [script, cluster.Kubeconfig, Pod]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var errors = process.StandardError.ReadToEndAsync();
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"the Python client failed (apt-get install python3-kubernetes): {await errors}");
            var result = JsonNode.Parse(output)!;
            Assert.Equal("out\ngot:hello\n", (string?)result["stdout"]);
            Assert.Equal("err\n", (string?)result["stderr"]);
            Assert.Equal(3, (int)result["code"]!);
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>The pids of processes running exactly <c>sleep SECONDS</c>.</summary>
    private static List<int> Sleeping(string seconds) =>
        [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(d => d!.All(char.IsAsciiDigit)).Select(d => int.Parse(d!, CultureInfo.InvariantCulture))
            .Where(pid => ReadCommandLine(pid) == $"sleep\0{seconds}\0")];

    private static string? ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // gone meanwhile
        }
    }

    private static string Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    private async Task<string> ExecTextAsync(string? version, params string[] command)
    {
        var (code, stdout, stderr) = await Kubectl.RunAsync(cluster.Kubeconfig, null, version, ["exec", Pod, "-c", "app", "--", .. command]);
        Assert.True(code == 0, $"kubectl exec {string.Join(' ', command)} exited {code}: {stderr}");
        return Encoding.UTF8.GetString(stdout);
    }

    /// <summary>One HTTP/1.1 GET on a connection of its own to 127.0.0.1:<paramref name="port"/>; the whole response.</summary>
    private static async Task<string> GetAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(stream);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>The body of an HTTP response (or the text itself when it is not one).</summary>
    private static string Body(string response) => response.Contains("\r\n\r\n", StringComparison.Ordinal) ? response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..] : response;

    private static List<string> Lines(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"Waited 30 s for {what}.");
            }

            await Task.Delay(20);
        }
    }

    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (.*)$")]
    private static partial Regex TimestampedLine();

    [GeneratedRegex(@"^Forwarding from 127\.0\.0\.1:(\d+) -> 8080")]
    private static partial Regex ForwardingLine();
}
