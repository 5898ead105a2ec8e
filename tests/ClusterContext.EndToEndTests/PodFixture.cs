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

    public const int WebPort = 8080;
    public const string WebBody = "orders-web";

    public const int TlsPort = 8443;

    private SandboxWebService? _web;
    private SandboxWebService? _tls;

    public string AgentAddress => $"{Sandbox.PodIP}:{AgentPort}";

    /// <summary>An in-cluster HTTP service, <c>web.&lt;namespace&gt;.svc.cluster.local:8080</c>, reachable only from the pod.</summary>
    public string WebHostName => _web!.HostName;

    public async Task InitializeAsync()
    {
        var options = new PodSandboxOptions { ServiceVariables = true };
        options.Files[ConfigFile] = Encoding.UTF8.GetBytes(ConfigText);
        options.Files["/data/items/a.txt"] = Encoding.UTF8.GetBytes("alpha");
        options.Files["/data/items/b.txt"] = Encoding.UTF8.GetBytes("bravo");
        Sandbox = await PodSandbox.StartAsync(options);
        Agent = await Sandbox.StartAgentAsync(AgentPort, "--token", Token);

        // A second in-cluster service: HTTP on redis's address.
        _web = await SandboxWebService.StartAsync(Sandbox, WebPort, WebBody);
        _tls = await SandboxWebService.StartAsync(Sandbox, TlsPort, WebBody, tls: true);
    }

    /// <summary>The pod's own view of a file, read on the host through the app container's root.</summary>
    public string ReadInPod(string path) => File.ReadAllText($"/proc/{Sandbox.AppPid}/root{path}");

    public async Task DisposeAsync()
    {
        if (_web is not null)
        {
            await _web.DisposeAsync();
        }

        if (_tls is not null)
        {
            await _tls.DisposeAsync();
        }
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
