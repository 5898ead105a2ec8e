using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

/// <summary>The sandbox cluster as a user runs it, started once for a test class and stopped after it.</summary>
public sealed class SandboxClusterProcess : IAsyncLifetime
{
    public const string Pod = "orders-7d9f8-abcde";
    private SandboxClusterRun? _run;

    private SandboxClusterRun Run => _run ?? throw new InvalidOperationException("The sandbox cluster has not started.");

    public string Kubeconfig => Run.Kubeconfig;

    /// <summary>The pod sandbox's number N (its pod is 10.240.N.2, its network namespace ccN-pod).</summary>
    public int SandboxIndex => Run.SandboxIndex;

    public string Output() => Run.Output();

    public async Task InitializeAsync() =>
        _run = await SandboxClusterRun.StartAsync(AppRun.BuildOutput("tests/SandboxCluster", "SandboxCluster.dll"), "sandbox-cluster-process");

    public async Task DisposeAsync()
    {
        if (_run is not null)
        {
            await _run.DisposeAsync();
        }
    }
}
