using System.Text.Json;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Tests;

/// <summary><c>clusterctx ls</c>: what an IDE's target picker needs.</summary>
[Collection(SandboxGroup.Name)]
public sealed class LsTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    [Fact]
    public async Task Json_lists_the_deployment_with_its_containers_and_ports()
    {
        var run = await Cli.RunAsync("ls", "-o", "json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var document = JsonDocument.Parse(run.Output);
        Assert.Equal(SandboxCluster.Namespace, document.RootElement.GetProperty("namespace").GetString());
        var targets = document.RootElement.GetProperty("targets").EnumerateArray().ToList();
        var orders = Assert.Single(targets, t => t.GetProperty("target").GetString() == $"deployment/{SandboxCluster.Deployment}");
        Assert.Equal("1/1", orders.GetProperty("ready").GetString());
        var container = Assert.Single(orders.GetProperty("containers").EnumerateArray());
        Assert.Equal(SandboxCluster.Container, container.GetProperty("name").GetString());
        Assert.Equal(SandboxCluster.Image, container.GetProperty("image").GetString());
        var port = Assert.Single(container.GetProperty("ports").EnumerateArray());
        Assert.Equal(SandboxCluster.AppPort, port.GetProperty("containerPort").GetInt32());
        Assert.Equal("TCP", port.GetProperty("protocol").GetString());

        // The pod too; the replicaset the deployment owns is reached through it, so it is not listed.
        Assert.Contains(targets, t => t.GetProperty("target").GetString() == $"pod/{SandboxCluster.Pod}");
        Assert.DoesNotContain(targets, t => t.GetProperty("target").GetString() == $"replicaset/{SandboxCluster.ReplicaSet}");

        // Every target listed is one -t takes: clusterctx env resolves it.
        var env = await Cli.RunAsync("env", "-t", orders.GetProperty("target").GetString()!, "--format", "json");
        Assert.True(env.ExitCode == 0, env.ToString());
    }

    [Fact]
    public async Task The_table_names_the_target_and_its_port()
    {
        var run = await Cli.RunAsync("ls");
        Assert.True(run.ExitCode == 0, run.ToString());
        var line = Assert.Single(run.Output.Split('\n'), l => l.StartsWith("deployment/orders ", StringComparison.Ordinal));
        Assert.Contains("8080/TCP", line, StringComparison.Ordinal);
    }
}
