using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Tests;

/// <summary>A test's own runtime folder (its session hosts) and clusterctx against the shared sandbox cluster.</summary>
public abstract class CliTestBase : IDisposable
{
    protected CliTestBase(SandboxClusterFixture fixture)
    {
        Fixture = fixture;
        Runtime = Directory.CreateTempSubdirectory("clusterctx-runtime-").FullName;
        Cli = new Clusterctx(fixture.Kubeconfig, Runtime);
    }

    protected SandboxClusterFixture Fixture { get; }

    protected string Runtime { get; }

    protected Clusterctx Cli { get; }

    /// <summary>The agent containers the pod has had.</summary>
    protected JsonArray AgentContainers() =>
        Fixture.Cluster.Api.Get("pods", SandboxCluster.Namespace, SandboxCluster.Pod)!["spec"]!["ephemeralContainers"]?.AsArray() ?? [];

    protected static async Task WaitForAsync(Func<bool> condition, string what, int seconds = 30)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(seconds), $"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        // Whatever a failed test left running in its folder is stopped with it.
        foreach (var lockFile in Directory.Exists(Cli.Sessions) ? Directory.GetFiles(Cli.Sessions, "*.lock") : [])
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(lockFile));
                using var host = Process.GetProcessById(document.RootElement.GetProperty("pid").GetInt32());
                host.Kill();
                host.WaitForExit();
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException or System.Text.Json.JsonException or KeyNotFoundException)
            {
            }
        }

        Directory.Delete(Runtime, recursive: true);
    }
}
