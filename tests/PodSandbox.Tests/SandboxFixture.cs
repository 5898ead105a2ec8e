using System.Diagnostics;
using System.Text;

namespace ClusterContext.Testing.Sandbox.Tests;

/// <summary>One sandbox shared by the tests that only look at it, since starting one is the expensive part.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public PodSandboxOptions Options { get; } = CreateOptions();

    public PodSandbox Sandbox { get; private set; } = null!;

    public TimeSpan StartDuration { get; private set; }

    public async Task InitializeAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        Sandbox = await PodSandbox.StartAsync(Options);
        StartDuration = stopwatch.Elapsed;
    }

    public async Task DisposeAsync()
    {
        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }
    }

    private static PodSandboxOptions CreateOptions()
    {
        var options = new PodSandboxOptions();
        options.Files["/etc/config/feature-flags.json"] = Encoding.UTF8.GetBytes("{\"newCheckout\":false}");
        options.Files["/etc/motd"] = Encoding.UTF8.GetBytes("mounted alone, like a subPath\n");
        return options;
    }
}
