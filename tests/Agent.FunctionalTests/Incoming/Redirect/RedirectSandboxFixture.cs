using ClusterContext.Agent.Incoming.Redirect;
using ClusterContext.Testing.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>One pod sandbox for the redirect tests; each test uses ports of its own and its own nftables table.</summary>
public sealed class RedirectSandboxFixture : IAsyncLifetime
{
    public PodSandbox Sandbox { get; private set; } = null!;

    public async Task InitializeAsync() => Sandbox = await PodSandbox.StartAsync(new PodSandboxOptions { StartRedis = false });

    /// <summary>Opens a redirector the way the agent does, from inside the pod's network namespace.</summary>
    internal NftRedirector OpenRedirector() =>
        PodNamespaceThread.Run(Sandbox.PodNetworkNamespacePath, () => NftRedirector.Open(NullLogger.Instance));

    /// <summary>Runs the real nft in the pod's network namespace: what an administrator would see there.</summary>
    public async Task<string> NftAsync(params string[] arguments)
    {
        var result = await Sandbox.RunInPodAsync("nft", arguments);
        Assert.True(result.ExitCode == 0, $"nft {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}");
        return result.StandardOutput;
    }

    public async Task DisposeAsync()
    {
        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }
    }
}
