namespace ClusterContext.Testing.Cluster;

/// <summary>The local sandbox cluster in this process, with the kubeconfig a user of it gets, shared by a class's (or a collection's) tests.</summary>
public sealed class SandboxClusterFixture : Xunit.IAsyncLifetime
{
    public SandboxCluster Cluster { get; private set; } = null!;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("sandbox-cluster-").FullName;

    public string Kubeconfig => Path.Combine(Directory, "kubeconfig");

    /// <summary>The pod's app container process, whose environment is the pod's.</summary>
    public int AppPid => Cluster.Sandbox.AppPid;

    /// <summary>The app container's root as seen from the host: where the pod's own view of its files is read.</summary>
    public string PodRoot => $"/proc/{Cluster.Sandbox.AppPid}/root";

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
