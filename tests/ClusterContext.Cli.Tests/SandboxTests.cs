namespace ClusterContext.Cli.Tests;

/// <summary><c>clusterctx sandbox</c>: a cluster of its own to try everything with, gone with everything it made on Ctrl+C.</summary>
public sealed class SandboxTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("clusterctx-sandbox-").FullName;

    [Fact]
    public async Task The_sandbox_serves_deployment_orders_to_clusterctx_run_and_ctrl_c_removes_it_and_its_kubeconfig()
    {
        var kubeconfig = Path.Combine(_work, "sandbox.kubeconfig");
        var cli = new Clusterctx(kubeconfig, _work);
        var sandbox = cli.Start(null, _work, "sandbox", "--kubeconfig", kubeconfig);
        var stoppedByTest = false;
        try
        {
            await sandbox.WaitForLineAsync(l => l.Contains("Ctrl+C stops", StringComparison.Ordinal), "the sandbox cluster to be ready", TimeSpan.FromSeconds(120));
            Assert.True(File.Exists(kubeconfig));

            var run = await cli.RunAsync("run", "-t", "deployment/orders", "--", "sh", "-c", "echo mode=$ORDERS_MODE");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("mode=sandbox", run.Output, StringComparison.Ordinal);

            // A second one may not take the kubeconfig a running one serves.
            var second = await cli.RunAsync("sandbox", "--kubeconfig", kubeconfig);
            Assert.True(second.ExitCode == 2, second.ToString());
            Assert.Contains("still running", second.Error, StringComparison.Ordinal);

            stoppedByTest = true;
            await sandbox.SignalAsync("INT");
            var stopped = await sandbox.CompleteAsync();
            Assert.True(stopped.ExitCode == 0, stopped.ToString());
            Assert.Contains("Stopped.", stopped.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(kubeconfig));
        }
        finally
        {
            if (!stoppedByTest)
            {
                // A failure above: the cluster still cleans up after itself.
                await sandbox.SignalAsync("TERM");
                await sandbox.CompleteAsync();
            }
        }
    }

    [Fact]
    public async Task A_kubeconfig_the_sandbox_did_not_write_is_left_alone()
    {
        var kubeconfig = Path.Combine(_work, "config");
        const string Mine = "apiVersion: v1\nkind: Config\n";
        await File.WriteAllTextAsync(kubeconfig, Mine);
        var result = await new Clusterctx(kubeconfig, _work).RunAsync("sandbox", "--kubeconfig", kubeconfig);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("was not written by the sandbox cluster", result.Error, StringComparison.Ordinal);
        Assert.Equal(Mine, await File.ReadAllTextAsync(kubeconfig));
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
