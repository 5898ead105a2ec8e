using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Tests;

/// <summary>The local sandbox cluster in this process, with the kubeconfig a user of it gets, shared by a class's tests.</summary>
public sealed class SandboxClusterFixture : IAsyncLifetime
{
    public SandboxCluster Cluster { get; private set; } = null!;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("clusterctx-tests-").FullName;

    public string Kubeconfig => Path.Combine(Directory, "kubeconfig");

    /// <summary>The pod's app container process, whose environment is the pod's.</summary>
    public int AppPid => Cluster.Sandbox.AppPid;

    public async Task InitializeAsync()
    {
        Cluster = await SandboxCluster.StartAsync();
        Cluster.WriteKubeconfig(Kubeconfig);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
