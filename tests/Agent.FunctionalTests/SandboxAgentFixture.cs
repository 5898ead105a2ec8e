using System.Net;
using System.Text;
using ClusterContext.Session;
using ClusterContext.Testing;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>One pod sandbox with a real agent running in its network namespace, shared by the tests of a collection.</summary>
public sealed class SandboxAgentFixture : IAsyncLifetime
{
    public const string Token = "s3cr3t-session-token";
    public const string ConfigPath = "/etc/config/app.json";
    public const string BigFilePath = "/data/big.bin";
    public const int AgentPort = 7777;

    public static readonly byte[] ConfigContent = Encoding.UTF8.GetBytes("""{"Orders":{"Source":"configmap"}}""");

    public PodSandbox Sandbox { get; private set; } = null!;

    public AgentProcess Agent { get; private set; } = null!;

    public byte[] BigFile { get; } = CreateBigFile();

    public IPEndPoint AgentEndPoint => new(Sandbox.PodIP, AgentPort);

    public async Task InitializeAsync()
    {
        var options = new PodSandboxOptions();
        options.Files[ConfigPath] = ConfigContent;
        options.Files[BigFilePath] = BigFile;
        Sandbox = await PodSandbox.StartAsync(options);

        // Links inside the container that point at a file that exists only on the host.
        File.CreateSymbolicLink(Path.Combine(Sandbox.RootFsPath, "tmp", "escape-absolute"), Sandbox.HostOnlyPath);
        File.CreateSymbolicLink(Path.Combine(Sandbox.RootFsPath, "tmp", "escape-relative"), "../../../../../../../../.." + Sandbox.HostOnlyPath);
        File.CreateSymbolicLink(Path.Combine(Sandbox.RootFsPath, "tmp", "hostname-link"), "/etc/hostname");

        Agent = await StartAgentAsync("--token", Token);
    }

    /// <summary>Starts another agent in the pod, on <paramref name="port"/>, with extra arguments.</summary>
    public Task<AgentProcess> StartAgentAsync(params string[] arguments) => StartAgentAsync(AgentPort, arguments);

    public Task<AgentProcess> StartAgentAsync(int port, params string[] arguments) => Sandbox.StartAgentAsync(port, arguments);

    internal Task<AgentClient> ConnectAsync(string token = Token) =>
        AgentClient.ConnectAsync(AgentEndPoint, token, clientName: "functional-tests");

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

    private static byte[] CreateBigFile()
    {
        var bytes = new byte[50 * 1024 * 1024];
        new Random(50).NextBytes(bytes);
        return bytes;
    }
}
