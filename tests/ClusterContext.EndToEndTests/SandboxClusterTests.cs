using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ClusterContext.Testing.Sandbox.Tests;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The local sandbox cluster as a user runs it (<c>dotnet run --project tests/SandboxCluster -- --kubeconfig PATH</c>):
/// kubectl sees deployment orders, an unmodified app with <c>"target": "deployment/orders"</c> runs in its pod's context,
/// and an interrupt removes everything the cluster made.
/// </summary>
[Collection(TimingGroup.Name)]
public sealed partial class SandboxClusterTests
{
    [Fact]
    public async Task The_sandbox_cluster_serves_deployment_orders_to_kubectl_and_to_an_app_and_leaves_nothing_behind()
    {
        var directory = Directory.CreateTempSubdirectory("sandbox-cluster-test-").FullName;
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        using var cluster = Process.Start(new ProcessStartInfo("dotnet", [AppRun.BuildOutput("tests/SandboxCluster", "SandboxCluster.dll"), "--kubeconfig", kubeconfig])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.Add(e.Data ?? "");
            }

            if (e.Data?.Contains("Ctrl+C stops", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        cluster.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.Add(e.Data ?? "");
            }
        };
        cluster.BeginOutputReadLine();
        cluster.BeginErrorReadLine();
        string Output()
        {
            lock (output)
            {
                return string.Join(Environment.NewLine, output);
            }
        }

        try
        {
            await Task.WhenAny(ready.Task, cluster.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(ready.Task.IsCompleted, $"The sandbox cluster did not become ready:{Environment.NewLine}{Output()}");
            var index = int.Parse(PodAddress().Match(Output()).Groups[1].Value, CultureInfo.InvariantCulture);

            // A second sandbox cluster may not take over the kubeconfig this one serves.
            using (var second = Process.Start(new ProcessStartInfo("dotnet", [AppRun.BuildOutput("tests/SandboxCluster", "SandboxCluster.dll"), "--kubeconfig", kubeconfig])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!)
            {
                var refusal = await second.StandardError.ReadToEndAsync();
                await second.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(2, second.ExitCode);
                Assert.Contains($"belongs to a sandbox cluster that is still running (process {cluster.Id})", refusal, StringComparison.Ordinal);
            }

            // kubectl, with only the kubeconfig the cluster wrote (CA and client certificate).
            var deployment = JsonNode.Parse(await KubectlAsync(kubeconfig, "get", "deploy", "orders", "-o", "json"))!;
            Assert.Equal(1, (int)deployment["status"]!["readyReplicas"]!);
            var pods = JsonNode.Parse(await KubectlAsync(kubeconfig, "get", "pods", "-l", "app=orders", "-o", "json"))!["items"]!.AsArray();
            var pod = Assert.Single(pods)!;
            Assert.Equal("app", (string?)pod["spec"]!["containers"]![0]!["name"]);
            var all = await KubectlAsync(kubeconfig, "get", "all");
            Assert.Matches(@"service/redis\s+ClusterIP\s+10\.241\.\d+\.20\s+<none>\s+6379/TCP", all);
            Assert.Matches(@"service/orders\s+ClusterIP\s+10\.96\.0\.80\s+<none>\s+8080/TCP", all);
            Assert.Matches(@"pod/client\s+1/1\s+Running", all);
            Assert.Matches(@"deployment.apps/orders\s+1/1", all);
            Assert.Matches(@"replicaset.apps/orders-7d9f8\s+1\s+1\s+1", all);
            Assert.Matches($@"orders-7d9f8-abcde\s+1/1\s+Running\s+0\s+\w+\s+10\.240\.{index}\.2\s+sandbox-node", await KubectlAsync(kubeconfig, "get", "pods", "-o", "wide"));

            // An unmodified app, DOTNET_STARTUP_HOOKS and the target only: the pod's env, files, cluster services, and the app container itself.
            var run = await AppRun.RunAsync(new Dictionary<string, string?>
            {
                ["KUBECONFIG"] = kubeconfig,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["CLUSTERCONTEXT_REQUIRED"] = "true",
                ["ORDERS_MODE"] = null,
            }, null, "env:ORDERS_MODE", "read:/etc/orders/appsettings.json", "read:/var/run/secrets/orders/password",
                "redis:redis", "http:http://web.shop.svc.cluster.local:8080/", $"http:http://{(string?)pod["status"]!["podIP"]}:8080/");
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
            Assert.Equal("""{"Orders":{"Source":"configmap"}}""", run["read:/etc/orders/appsettings.json"]);
            Assert.Equal("sandbox-orders-password", run["read:/var/run/secrets/orders/password"]);
            Assert.Equal("+PONG", run["redis:redis"]);
            Assert.Equal("web", run["http:http://web.shop.svc.cluster.local:8080/"]);
            Assert.Equal("orders", run[$"http:http://{(string?)pod["status"]!["podIP"]}:8080/"]);
            Assert.Contains("clustercontext: Starting agent container", run.Output, StringComparison.Ordinal);
            // The agent image the library starts by default is the one src/Agent/image/build-image.sh tags (the repository's version).
            var version = Regex.Match(File.ReadAllText(Path.Combine(AppRun.RepositoryRoot, "Directory.Build.props")), "<Version>(.*)</Version>").Groups[1].Value;
            Assert.Equal($"clustercontext/agent:{version}",
                (string?)JsonNode.Parse(await KubectlAsync(kubeconfig, "get", "pod", (string)pod["metadata"]!["name"]!, "-o", "json"))!["spec"]!["ephemeralContainers"]![0]!["image"]);

            // Sessions to one pod at once, and right after one another (its agent still lingering), each get an agent
            // on a port of their own; a fixed agent.port the app already listens on is refused with what to do.
            var environment = new Dictionary<string, string?> { ["KUBECONFIG"] = kubeconfig, ["CLUSTERCONTEXT_TARGET"] = "deployment/orders" };
            var together = await Task.WhenAll(AppRun.RunAsync(environment, null, "env:ORDERS_MODE"), AppRun.RunAsync(environment, null, "env:ORDERS_MODE"));
            Assert.All(together, r => Assert.True(r.ExitCode == 0 && r["env:ORDERS_MODE"] == "sandbox", r.Output));
            var taken = await AppRun.RunAsync(new Dictionary<string, string?>(environment) { ["CLUSTERCONTEXT_AGENT_PORT"] = "8080" }, null, "env:ORDERS_MODE");
            Assert.Equal(3, taken.ExitCode);
            Assert.Contains("Cannot listen on 127.0.0.1:8080", taken.Output, StringComparison.Ordinal);
            Assert.Contains("Port 8080 (agent.port) is taken in the pod", taken.Output, StringComparison.Ordinal);

            // DOTNET_STARTUP_HOOKS set for the SDK reaches its own processes too: `dotnet build` starts no agent (and
            // builds), `dotnet run` exactly one, for the app it runs.
            async Task<int> AgentContainersAsync() =>
                JsonNode.Parse(await KubectlAsync(kubeconfig, "get", "pod", (string)pod["metadata"]!["name"]!, "-o", "json"))!["spec"]!["ephemeralContainers"]!.AsArray().Count;
            var sdkEnvironment = new Dictionary<string, string?>(environment) { ["DOTNET_STARTUP_HOOKS"] = AppRun.HookPath, ["ORDERS_MODE"] = null };
            var sample = Path.Combine(AppRun.RepositoryRoot, "samples", "OrdersConsole");
            var agentsBefore = await AgentContainersAsync();
            var build = await DotnetAsync(sdkEnvironment, "build", sample, "--no-restore", "-nologo", "-v", "q", "--disable-build-servers");
            Assert.True(build.ExitCode == 0, build.Output);
            Assert.DoesNotContain("clustercontext:", build.Output, StringComparison.Ordinal);
            Assert.Equal(agentsBefore, await AgentContainersAsync());
            var dotnetRun = await DotnetAsync(sdkEnvironment, "run", "--no-build", "--project", sample);
            Assert.True(dotnetRun.ExitCode == 0, dotnetRun.Output);
            Assert.Matches(@"ORDERS_MODE\s+= sandbox", dotnetRun.Output);
            Assert.Single(Regex.Matches(dotnetRun.Output, "clustercontext: Starting agent container"));
            Assert.Equal(agentsBefore + 1, await AgentContainersAsync());

            // `dotnet test` of a small xunit project: the test host gets the session (its tests read the pod's
            // environment and files), the CLI, MSBuild and the test platform's runner do not: one agent.
            var testProject = WritePodTestProject(Path.Combine(directory, "pod-tests"));
            var dotnetTest = await DotnetAsync(sdkEnvironment, "test", testProject, "-nologo", "--disable-build-servers");
            Assert.True(dotnetTest.ExitCode == 0, dotnetTest.Output);
            Assert.Matches(@"Passed!\s+-\s+Failed:\s+0,\s+Passed:\s+2,", dotnetTest.Output);
            Assert.Equal(agentsBefore + 2, await AgentContainersAsync());

            // `dotnet watch` gives the app a DOTNET_STARTUP_HOOKS of its own (its hot reload agent), losing the one it
            // inherited: the hook in dotnet-watch says so and how to fix it, and no agent starts for anyone.
            var unhooked = await WatchAsync(sdkEnvironment, Path.Combine(directory, "watched-variable"), projectHook: false, edits: 0);
            Assert.True(unhooked.Runs.SequenceEqual(["round 1: ORDERS_MODE=."]), unhooked.Output);
            Assert.Contains("<RuntimeHostConfigurationOption Include=\"STARTUP_HOOKS\"", unhooked.Output, StringComparison.Ordinal);
            Assert.Equal(agentsBefore + 2, await AgentContainersAsync());

            // With the hook in the project's runtime configuration, as the warning says: `dotnet watch` with one edit
            // runs the app twice, each run in the pod's context with an agent of its own; dotnet-watch and the builds get none.
            var watched = await WatchAsync(sdkEnvironment, Path.Combine(directory, "watched-project"), projectHook: true, edits: 1);
            Assert.True(watched.Runs.SequenceEqual(["round 1: ORDERS_MODE=sandbox.", "round 2: ORDERS_MODE=sandbox."]), watched.Output);
            Assert.Single(Regex.Matches(watched.Output, "clustercontext: warning: dotnet watch"));
            Assert.Equal(agentsBefore + 4, await AgentContainersAsync());

            // An app killed outright mid-session: its agent notices the port-forward close and leaves; every agent
            // container started so far ends, as the pod's status shows.
            var killed = AppRun.StartAsync(environment, null, "env:ORDERS_MODE", $"pause:{Path.Combine(directory, "never")}");
            Assert.Equal("env:ORDERS_MODE\tsandbox", await killed.NextLineAsync());
            killed.Kill();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            JsonArray statuses;
            do
            {
                await Task.Delay(200);
                statuses = JsonNode.Parse(await KubectlAsync(kubeconfig, "get", "pod", (string)pod["metadata"]!["name"]!, "-o", "json"))!["status"]!["ephemeralContainerStatuses"]!.AsArray();
            }
            while (statuses.Any(s => s!["state"]!["terminated"] is null) && DateTime.UtcNow < deadline);
            Assert.Equal(agentsBefore + 5, statuses.Count); // dotnet run's, dotnet test's, dotnet watch's two, and the killed app's
            Assert.All(statuses, s => Assert.NotNull(s!["state"]!["terminated"]));

            // Every process in the pod's and the services' network namespaces (app, agent, DNS, redis, web) must end.
            var processes = ProcessesIn($"cc{index}-pod").Concat(ProcessesIn($"cc{index}-svc")).ToList();
            Assert.True(processes.Count >= 4, $"Expected the app, DNS, redis and web processes, found pids {string.Join(", ", processes)}");

            Terminate(cluster.Id);
            await cluster.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(cluster.ExitCode == 0, Output());
            Assert.False(File.Exists(kubeconfig));
            Assert.Empty(SandboxResources.Remaining(index));
            Assert.DoesNotContain(processes, SandboxResources.IsAlive);
        }
        finally
        {
            if (!cluster.HasExited)
            {
                cluster.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Pids whose network namespace is /run/netns/<paramref name="name"/>.</summary>
    private static IEnumerable<int> ProcessesIn(string name) =>
        SandboxResources.Run("ip", "netns", "pids", name).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture));

    private static async Task<string> KubectlAsync(string kubeconfig, params string[] arguments)
    {
        var info = new ProcessStartInfo("kubectl", [$"--kubeconfig={kubeconfig}", .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', arguments)} failed: {await errors}");
        return text;
    }

    /// <summary>The dotnet CLI with <paramref name="environment"/> (null removes a variable): its exit code and all it printed.</summary>
    private static async Task<(int ExitCode, string Output)> DotnetAsync(IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppRun.RepositoryRoot };
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, output + await errors);
    }

    /// <summary>An xunit project (outside this repository, as a user's) whose two tests pass only in the pod's context.</summary>
    private static string WritePodTestProject(string folder)
    {
        Directory.CreateDirectory(folder);
        var versions = File.ReadAllText(Path.Combine(AppRun.RepositoryRoot, "Directory.Packages.props"));
        string Version(string package) => Regex.Match(versions, $@"<PackageVersion Include=""{Regex.Escape(package)}"" Version=""([^""]+)""").Groups[1].Value;
        File.WriteAllText(Path.Combine(folder, "PodTests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="{Version("Microsoft.NET.Test.Sdk")}" />
                <PackageReference Include="xunit" Version="{Version("xunit")}" />
                <PackageReference Include="xunit.runner.visualstudio" Version="{Version("xunit.runner.visualstudio")}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "PodTests.cs"), """
            public class PodTests
            {
                [Xunit.Fact]
                public void The_environment_is_the_pods() => Xunit.Assert.Equal("sandbox", System.Environment.GetEnvironmentVariable("ORDERS_MODE"));

                [Xunit.Fact]
                public void The_config_map_is_mounted() => Xunit.Assert.Contains("configmap", System.IO.File.ReadAllText("/etc/orders/appsettings.json"));
            }
            """);
        return folder;
    }

    /// <summary>
    /// <c>dotnet watch run</c> of a console app that prints the ORDERS_MODE it sees and exits; once each of its first
    /// <paramref name="edits"/> runs has ended, one edit to Program.cs. With <paramref name="projectHook"/> the project names the
    /// hook in its runtime configuration (<c>STARTUP_HOOKS</c>). Returns what each run printed, and all of watch's output.
    /// </summary>
    private static async Task<(List<string> Runs, string Output)> WatchAsync(IReadOnlyDictionary<string, string?> environment, string folder, bool projectHook, int edits)
    {
        Directory.CreateDirectory(folder);
        var hookItem = projectHook ? $"""<ItemGroup><RuntimeHostConfigurationOption Include="STARTUP_HOOKS" Value="{AppRun.HookPath}" /></ItemGroup>""" : "";
        File.WriteAllText(Path.Combine(folder, "Watched.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
              </PropertyGroup>
              {hookItem}
            </Project>
            """);
        static string Program(int round) => $$"""System.Console.WriteLine($"round {{round}}: ORDERS_MODE={System.Environment.GetEnvironmentVariable("ORDERS_MODE")}.");""";
        File.WriteAllText(Path.Combine(folder, "Program.cs"), Program(1));
        var info = new ProcessStartInfo("dotnet", ["watch", "--non-interactive", "run", "--project", folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        };
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var lines = new List<string>();
        var runs = new List<string>();
        var waits = 0;
        var rounds = Enumerable.Range(0, edits + 1).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        using var watch = new Process { StartInfo = info };
        void Seen(string? line)
        {
            lock (lines)
            {
                lines.Add(line ?? "");
                if (line is not null && WatchedRun().Match(line) is { Success: true } run)
                {
                    runs.Add(line);
                }

                // Run N is over once watch has printed its output and waits for a change for the Nth time: an edit
                // made earlier would go to the exiting app as a hot reload, and watch would then wait for another.
                // watch passes the app's output on in its own time, so its wait may be printed before the output.
                if (line?.Contains("Waiting for a file to change", StringComparison.Ordinal) == true)
                {
                    waits++;
                }

                var over = Math.Min(Math.Min(runs.Count, waits), rounds.Length);
                for (var done = 0; done < over; done++)
                {
                    rounds[done].TrySetResult();
                }
            }
        }

        // Run N (from 0) has begun once watch restores and builds for the (N+1)th time: the first build, then one per
        // change it saw.
        bool RunStarted(int run)
        {
            lock (lines)
            {
                return runs.Count > run || lines.Count(l => l.Contains("Determining projects to restore", StringComparison.Ordinal)) > run;
            }
        }

        watch.OutputDataReceived += (_, e) => Seen(e.Data);
        watch.ErrorDataReceived += (_, e) => Seen(e.Data);
        watch.Start();
        watch.BeginOutputReadLine();
        watch.BeginErrorReadLine();
        try
        {
            for (var round = 0; round < rounds.Length; round++)
            {
                await Task.WhenAny(rounds[round].Task, watch.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(2)));
                if (!rounds[round].Task.IsCompleted || round == edits)
                {
                    break;
                }

                // watch says it waits before its watcher is armed again: an edit made in that instant goes unseen, so
                // the edit is made again (another comment each time) until the next run starts.
                var next = round + 1;
                var started = Stopwatch.StartNew();
                for (var attempt = 0; !RunStarted(next) && !watch.HasExited && started.Elapsed < TimeSpan.FromMinutes(2); attempt++)
                {
                    File.WriteAllText(Path.Combine(folder, "Program.cs"), Program(round + 2) + $"{Environment.NewLine}// edit {attempt}");
                    await Task.WhenAny(rounds[next].Task, watch.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(10)));
                }
            }
        }
        finally
        {
            if (!watch.HasExited)
            {
                watch.Kill(entireProcessTree: true);
            }

            await watch.WaitForExitAsync();
        }

        lock (lines)
        {
            return ([.. runs], string.Join(Environment.NewLine, lines));
        }
    }

    /// <summary>
    /// SIGTERM, as a service manager or <c>kill</c> stops it (the same path as Ctrl+C; a SIGINT sent here could be
    /// ignored when the test run itself was started in the background).
    /// </summary>
    private static void Terminate(int pid)
    {
        using var kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    [GeneratedRegex(@"^round (\d+): ORDERS_MODE=")]
    private static partial Regex WatchedRun();

    [GeneratedRegex(@"at 10\.240\.(\d+)\.2,")]
    private static partial Regex PodAddress();
}
