namespace ClusterContext.EndToEndTests;

/// <summary>
/// A controller run locally: an unchanged app using the official C# client's in-cluster configuration, under the
/// hook with the sandbox cluster as its target, lists the pods of its namespace at KUBERNETES_SERVICE_HOST with the
/// pod's service-account token and CA, as the pod's own identity.
/// </summary>
public sealed class InClusterClientTests
{
    [Fact]
    public async Task An_in_cluster_client_lists_the_pods_of_its_namespace_as_the_pods_service_account()
    {
        var cluster = new SandboxClusterProcess();
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-incluster-").FullName;
        try
        {
            await cluster.InitializeAsync();
            var run = await AppRun.StartAppAsync(AppRun.InClusterAppPath, new Dictionary<string, string?>
            {
                ["KUBECONFIG"] = cluster.Kubeconfig,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["CLUSTERCONTEXT_REQUIRED"] = "true",
                ["KUBERNETES_SERVICE_HOST"] = null,
                ["KUBERNETES_SERVICE_PORT"] = null,
            }, directory).CompleteAsync();

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("https://10.96.0.1:443/", run["host"]);
            Assert.Contains(SandboxClusterProcess.Pod, run["pods"].Split(','));

            // The pod's service account may only get, list and watch pods; the developer's kubeconfig user may do more.
            Assert.Equal("403", run["configmaps"]);
            // KUBERNETES_SERVICE_HOST connected to raw (TcpClient's dual-mode socket) goes through the pod and reports that peer.
            Assert.StartsWith("[::ffff:10.96.0.1]:443", run["raw-peer"], StringComparison.Ordinal);
        }
        finally
        {
            await cluster.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
