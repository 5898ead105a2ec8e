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

    private System.Diagnostics.Process? _web;

    public string AgentAddress => $"{Sandbox.PodIP}:{AgentPort}";

    /// <summary>An in-cluster HTTP service, <c>web.&lt;namespace&gt;.svc.cluster.local:8080</c>, reachable only from the pod.</summary>
    public string WebHostName => $"web.{Sandbox.Namespace}.svc.cluster.local";

    public async Task InitializeAsync()
    {
        var options = new PodSandboxOptions();
        options.Files[ConfigFile] = Encoding.UTF8.GetBytes(ConfigText);
        options.Files["/data/items/a.txt"] = Encoding.UTF8.GetBytes("alpha");
        options.Files["/data/items/b.txt"] = Encoding.UTF8.GetBytes("bravo");
        Sandbox = await PodSandbox.StartAsync(options);
        Agent = await Sandbox.StartAgentAsync(AgentPort, "--token", Token);

        // A tiny HTTP service in the services namespace, on redis's address: a second in-cluster service.
        var response = Path.Combine(Sandbox.TempPath, "web-response.http");
        await File.WriteAllTextAsync(response, $"HTTP/1.1 200 OK\r\nContent-Length: {WebBody.Length}\r\nConnection: close\r\n\r\n{WebBody}");
        _web = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ip",
            ["netns", "exec", Sandbox.ServicesNetworkNamespace, "socat", $"TCP-LISTEN:{WebPort},bind={Sandbox.RedisIP},reuseaddr,fork", $"SYSTEM:cat {response}"]));
        await Sandbox.AddServiceRecordAsync(WebHostName, Sandbox.RedisIP);
    }

    /// <summary>The pod's own view of a file, read on the host through the app container's root.</summary>
    public string ReadInPod(string path) => File.ReadAllText($"/proc/{Sandbox.AppPid}/root{path}");

    public async Task DisposeAsync()
    {
        if (_web is { HasExited: false })
        {
            _web.Kill(entireProcessTree: true);
            await _web.WaitForExitAsync();
        }

        _web?.Dispose();
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
