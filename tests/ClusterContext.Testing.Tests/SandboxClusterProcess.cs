using ClusterContext.Testing.Cluster;

[assembly: AssemblyFixture(typeof(ClusterContext.Testing.Tests.SandboxClusterProcess))]

namespace ClusterContext.Testing.Tests;

/// <summary>
/// The sandbox cluster as its own process (the session hooks this test process, so the cluster stays out of it),
/// started before any fixture; its kubeconfig becomes this process's KUBECONFIG, as a developer's would be.
/// </summary>
public sealed class SandboxClusterProcess : IAsyncLifetime
{
    private SandboxClusterRun? _run;

    public string Kubeconfig => (_run ?? throw new InvalidOperationException("The sandbox cluster has not started.")).Kubeconfig;

    public static string RepositoryRoot => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static string BuildOutput(string project, string file)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return Path.Combine(RepositoryRoot, project, "bin", output.Parent!.Name, output.Name, file);
    }

    public async ValueTask InitializeAsync()
    {
        _run = await SandboxClusterRun.StartAsync(BuildOutput("tests/SandboxCluster", "SandboxCluster.dll"), "testing-sandbox-cluster");
        Environment.SetEnvironmentVariable("KUBECONFIG", Kubeconfig);
    }

    public async ValueTask DisposeAsync()
    {
        if (_run is not null)
        {
            await _run.DisposeAsync();
        }
    }
}
