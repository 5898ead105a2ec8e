using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Xml.Linq;

namespace ClusterContext.Testing.Tests;

/// <summary>
/// A user's test project (ClusterContext.Testing.Probe) run as its own process against a cluster that cannot be
/// reached: its tests fail with the session's message, or are skipped with it when the user set required: false,
/// and the run ends within the options' timeouts.
/// </summary>
public sealed class FixtureFailureTests
{
    [Fact]
    public async Task ARefusingApiServerFailsTheTestsWithTheSessionsMessage()
    {
        using var work = new Work(port: ClosedPort());
        var run = await work.RunProbeAsync(required: true);
        Assert.All(run.Tests, t => Assert.Equal("Fail", t.Result));
        Assert.All(run.Tests, t => Assert.Contains("Cannot run in the context of deployment/orders", t.Message, StringComparison.Ordinal));
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(30), $"took {run.Elapsed}");
    }

    [Fact]
    public async Task NotRequiredSkipsTheTestsWithTheReason()
    {
        using var work = new Work(port: ClosedPort());
        var run = await work.RunProbeAsync(required: false);
        Assert.All(run.Tests, t => Assert.Equal("Skip", t.Result));
        Assert.All(run.Tests, t => Assert.StartsWith("ClusterContext runs locally: Cannot run in the context of deployment/orders", t.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASilentApiServerFailsWithinTheConfiguredTimeouts()
    {
        // Accepts connections and never answers: only the fixture's deadline (agent.startTimeout + 2 × timeout) ends it.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        using var work = new Work(port: ((IPEndPoint)silent.LocalEndpoint).Port);
        File.WriteAllText(Path.Combine(work.Directory, "clustercontext.json"), """{ "timeout": 1, "agent": { "startTimeout": 2 } }""");
        var run = await work.RunProbeAsync(required: true);
        Assert.All(run.Tests, t => Assert.Equal("Fail", t.Result));
        Assert.All(run.Tests, t => Assert.Contains("Cannot run in the context of deployment/orders: ", t.Message, StringComparison.Ordinal));
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(25), $"took {run.Elapsed}: {run.Tests[0].Message}");
    }

    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private sealed record ProbeTest(string Name, string Result, string Message);

    private sealed record ProbeRun(IReadOnlyList<ProbeTest> Tests, TimeSpan Elapsed);

    private sealed class Work : IDisposable
    {
        public Work(int port)
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("testing-probe-").FullName;
            File.WriteAllText(Path.Combine(Directory, "kubeconfig"), $"""
                apiVersion: v1
                kind: Config
                clusters: [{"{"}name: c, cluster: {"{"}server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true{"}"}{"}"}]
                users: [{"{"}name: u, user: {"{"}token: t{"}"}{"}"}]
                contexts: [{"{"}name: x, context: {"{"}cluster: c, user: u, namespace: shop{"}"}{"}"}]
                current-context: x
                """);
        }

        public string Directory { get; }

        public async Task<ProbeRun> RunProbeAsync(bool required)
        {
            var results = Path.Combine(Directory, "results.xml");
            var start = new ProcessStartInfo("dotnet", [SandboxClusterProcess.BuildOutput("tests/ClusterContext.Testing.Probe", "ClusterContext.Testing.Probe.dll"), "-xml", results])
            {
                WorkingDirectory = Directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["KUBECONFIG"] = Path.Combine(Directory, "kubeconfig");
            start.Environment["CLUSTERCONTEXT_TARGET"] = "deployment/orders";
            start.Environment["CLUSTERCONTEXT_REQUIRED"] = required ? "true" : "false";
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(90), TestContext.Current.CancellationToken);
            var elapsed = clock.Elapsed;
            Assert.True(File.Exists(results), $"The probe wrote no results (exit {process.ExitCode}):{Environment.NewLine}{await output}{await error}");
            var tests = XDocument.Load(results).Descendants("test")
                .Select(t => new ProbeTest((string)t.Attribute("name")!, (string)t.Attribute("result")!,
                    (string?)t.Element("reason") ?? (string?)t.Element("failure")?.Element("message") ?? ""))
                .ToList();
            Assert.Equal(2, tests.Count);
            return new ProbeRun(tests, elapsed);
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
