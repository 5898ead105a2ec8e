using System.Diagnostics;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

/// <summary>What nftables holds in the sandbox pod's network namespace, as <c>nft list ruleset</c> prints it.</summary>
internal static class PodRuleset
{
    public static async Task<string> ReadAsync(SandboxCluster cluster)
    {
        using var nft = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", cluster.Sandbox.PodNetworkNamespace, "nft", "list", "ruleset"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await nft.StandardOutput.ReadToEndAsync();
        await nft.WaitForExitAsync();
        Assert.True(nft.ExitCode == 0, await nft.StandardError.ReadToEndAsync());
        return output;
    }
}
