using System.Security.Cryptography;

namespace ClusterContext.EndToEndTests;

/// <summary>A server that closes each connection right after its response: the end of the stream must not overtake the bytes before it.</summary>
[Collection(PodGroup.Name)]
public sealed class ClosingServerTests(PodFixture pod) : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clustercontext-e2e-closing-").FullName;
    private ClusterContext.Testing.SandboxPythonHttpServer? _server;

    public async Task InitializeAsync()
    {
        // Big enough to span several data frames, so a lost tail would show as a short body.
        await File.WriteAllBytesAsync(Path.Combine(_directory, "payload.bin"), RandomNumberGenerator.GetBytes(300 * 1024));
        var address = await pod.Sandbox.AddServiceAddressAsync(31);
        _server = await ClusterContext.Testing.SandboxPythonHttpServer.StartAsync(pod.Sandbox, "files", address, 8000, _directory);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Two_hundred_GETs_twenty_at_a_time_on_one_HttpClient_to_a_closing_http_server_all_succeed()
    {
        // The directory listing is one small write before the close; the file is many.
        var listing = $"http-parallel:200:20:http://{_server!.HostName}:{_server.Port}/";
        var file = $"http-parallel:200:20:http://{_server.HostName}:{_server.Port}/payload.bin";
        var run = await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
            ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
        }, null, listing, file);

        Assert.True(run.ExitCode == 0, run.Output);
        var all = $"listing: {run[listing]}; file: {run[file]}";
        Assert.True(run[listing] == "200 of 200 succeeded", all);
        Assert.True(run[file] == "200 of 200 succeeded", all);
    }
}
