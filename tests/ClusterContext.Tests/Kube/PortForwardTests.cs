using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ClusterContext.Kube;
using ClusterContext.Testing.Kube;

namespace ClusterContext.Tests.Kube;

/// <summary>Port-forward over WebSocket v4 through the API double to a TCP echo server standing in for the pod's port.</summary>
public sealed class PortForwardTests : IAsyncLifetime, IDisposable
{
    private readonly TcpListener _echo = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private KubeApiServer _server = null!;
    private KubeApiClient _client = null!;

    public async Task InitializeAsync()
    {
        _echo.Start();
        _ = EchoAsync();
        _server = await KubeApiServer.StartAsync();
        _server.AddToken("t", "tester");
        _server.Put("pods", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders-1","namespace":"shop"},"spec":{"containers":[{"name":"app","image":"a"}]}}""")!);
        _server.PortForwardTarget = (ns, pod, port) => (ns, pod, port) == ("shop", "orders-1", 8080) ? _echo.LocalEndpoint : null;
        _client = new KubeApiClient(new KubeEndpoint("test", _server.Address, "shop", _server.Pki.AuthorityPem, false, null, null, new KubeCredentials(Token: "t")));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _stop.Cancel();
        _echo.Stop();
        _echo.Dispose();
        _client.Dispose();
        _stop.Dispose();
    }

    [Fact]
    public async Task Bytes_round_trip_through_the_forwarded_port()
    {
        await using var stream = await PortForwardStream.OpenAsync(_client, "shop", "orders-1", 8080, CancellationToken.None);
        var sent = RandomNumberGenerator.GetBytes(1 << 20);
        var received = new byte[sent.Length];

        var reading = stream.ReadExactlyAsync(received).AsTask();
        await stream.WriteAsync(sent);
        await reading.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task A_gathered_write_of_many_buffers_arrives_whole_and_in_order()
    {
        await using var stream = await PortForwardStream.OpenAsync(_client, "shop", "orders-1", 8080, CancellationToken.None);
        var sent = RandomNumberGenerator.GetBytes(600_000);
        // Buffers of 10 bytes (a frame header), 1 byte and 200,000 bytes, so messages are filled across them and across
        // the 64 KiB message limit.
        var sizes = new[] { 10, 1, 200_000, 10, 65_535, 3, 10 };
        var buffers = new List<ArraySegment<byte>>();
        for (var offset = 0; offset < sent.Length; offset += buffers[^1].Count)
        {
            buffers.Add(new ArraySegment<byte>(sent, offset, Math.Min(sizes[buffers.Count % sizes.Length], sent.Length - offset)));
        }

        var received = new byte[sent.Length];
        var reading = stream.ReadExactlyAsync(received).AsTask();
        await ((ClusterContext.Protocol.Multiplexing.IGatheringWriter)stream).WriteAsync(buffers, sent.Length);
        await reading.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task A_port_nobody_listens_on_reports_the_error_channel_text()
    {
        await using var stream = await PortForwardStream.OpenAsync(_client, "shop", "orders-1", 9999, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<IOException>(async () => await stream.ReadExactlyAsync(new byte[16]));
        Assert.Contains("error forwarding port 9999 to pod orders-1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_upgrade_carries_the_status_code()
    {
        _server.Deny("tester", "get", "pods/portforward");

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => PortForwardStream.OpenAsync(_client, "shop", "orders-1", 8080, CancellationToken.None));
        Assert.Equal(403, ex.StatusCode);
        Assert.Contains("pods/portforward", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Python_client_port_forward_exchanges_bytes()
    {
        var root = Directory.CreateTempSubdirectory("pf-").FullName;
        try
        {
            var config = _server.WriteKubeconfig(Path.Combine(root, "config"), "t", user: "tester");
            var script = Path.Combine(root, "pf.py");
            File.WriteAllText(script, """
                import sys
                from kubernetes import client, config
                from kubernetes.stream import portforward
                config.load_kube_config(config_file=sys.argv[1])
                api = client.CoreV1Api()
                pf = portforward(api.connect_get_namespaced_pod_portforward, "orders-1", "shop", ports="8080")
                sock = pf.socket(8080)
                sock.setblocking(True)
                sock.sendall(b"ping from python")
                data = b""
                while len(data) < 16:
                    chunk = sock.recv(1024)
                    if not chunk:
                        break
                    data += chunk
                print(data.decode())
                sock.close()
                """);
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(config);
            using var process = System.Diagnostics.Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.True(process.ExitCode == 0, await error);
            Assert.Equal("ping from python", (await output).Trim());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private async Task EchoAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _echo.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (connection)
                {
                    var buffer = new byte[65536];
                    try
                    {
                        int read;
                        while ((read = await connection.ReceiveAsync(buffer, _stop.Token)) > 0)
                        {
                            await connection.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                        }
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or SocketException)
                    {
                        // Test over.
                    }
                }
            });
        }
    }
}
