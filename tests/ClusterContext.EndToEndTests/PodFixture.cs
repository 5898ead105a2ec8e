using System.Text;
using ClusterContext.Testing;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.EndToEndTests;

/// <summary>A pod sandbox with the agent running in it, shared by the end-to-end tests.</summary>
public sealed class PodFixture : IAsyncLifetime
{
    public const string Token = "e2e-token";
    public const int AgentPort = 7777;
    public const string ConfigFile = "/etc/config/app.json";
    public const string ConfigText = """{"Orders":{"Source":"configmap"}}""";

    public PodSandbox Sandbox { get; private set; } = null!;

    public AgentProcess Agent { get; private set; } = null!;

    public string AgentAddress => $"{Sandbox.PodIP}:{AgentPort}";

    public async Task InitializeAsync()
    {
        var options = new PodSandboxOptions();
        options.Files[ConfigFile] = Encoding.UTF8.GetBytes(ConfigText);
        options.Files["/data/items/a.txt"] = Encoding.UTF8.GetBytes("alpha");
        options.Files["/data/items/b.txt"] = Encoding.UTF8.GetBytes("bravo");
        Sandbox = await PodSandbox.StartAsync(options);
        Agent = await Sandbox.StartAgentAsync(AgentPort, "--token", Token);
    }

    /// <summary>The pod's own view of a file, read on the host through the app container's root.</summary>
    public string ReadInPod(string path) => File.ReadAllText($"/proc/{Sandbox.AppPid}/root{path}");

    public async Task DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }

        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PodGroup : ICollectionFixture<PodFixture>
{
    public const string Name = "pod";
}
