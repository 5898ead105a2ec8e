using System.Diagnostics;

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
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-incluster-").FullName;
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        using var cluster = Process.Start(new ProcessStartInfo("dotnet", [AppRun.BuildOutput("tests/SandboxCluster", "SandboxCluster.dll"), "--kubeconfig", kubeconfig])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("Ctrl+C stops", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        cluster.BeginOutputReadLine();
        var errors = cluster.StandardError.ReadToEndAsync();
        try
        {
            await Task.WhenAny(ready.Task, cluster.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(ready.Task.IsCompleted, "The sandbox cluster did not become ready.");

            var run = await AppRun.StartAppAsync(AppRun.InClusterAppPath, new Dictionary<string, string?>
            {
                ["KUBECONFIG"] = kubeconfig,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["CLUSTERCONTEXT_REQUIRED"] = "true",
                ["KUBERNETES_SERVICE_HOST"] = null,
                ["KUBERNETES_SERVICE_PORT"] = null,
            }, directory).CompleteAsync();

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("https://10.96.0.1:443/", run["host"]);
            Assert.Contains("orders-7d9f8-abcde", run["pods"].Split(','));

            // The pod's service account may only get, list and watch pods; the developer's kubeconfig user may do more.
            Assert.Equal("403", run["configmaps"]);
            // KUBERNETES_SERVICE_HOST connected to raw (TcpClient's dual-mode socket) goes through the pod and reports that peer.
            Assert.StartsWith("[::ffff:10.96.0.1]:443", run["raw-peer"], StringComparison.Ordinal);
        }
        finally
        {
            if (!cluster.HasExited)
            {
                Process.Start("kill", ["-TERM", cluster.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                if (!cluster.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    cluster.Kill(entireProcessTree: true);
                }
            }

            _ = await errors;
            Directory.Delete(directory, recursive: true);
        }
    }
}
