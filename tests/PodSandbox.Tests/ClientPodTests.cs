using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace ClusterContext.Testing.Sandbox.Tests;

/// <summary>The client pod reaches the pod from outside, at the pod IP and through a service's cluster IP, as another pod would.</summary>
public sealed class ClientPodTests(ITestOutputHelper output)
{
    private const string ServiceName = "orders.shop.svc.cluster.local";
    private static readonly IPAddress ServiceIP = IPAddress.Parse("10.96.0.80");

    [Fact]
    public async Task Curl_in_the_client_reaches_the_pods_port_through_the_service_name_and_the_pod_IP_and_nothing_stays_behind()
    {
        var sandbox = await PodSandbox.StartAsync(new PodSandboxOptions { LoggerFactory = new TestLoggerFactory(output) });
        var index = sandbox.Index;
        var tempPath = sandbox.TempPath;
        var peers = new List<(EndPoint Remote, EndPoint Local)>();
        using var listener = sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Any, 8080));
        listener.Listen();
        var serving = ServeAsync(listener, peers);
        try
        {
            await sandbox.AddClientServiceAsync(ServiceName, ServiceIP, 8080, 8080);

            var byName = await sandbox.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"http://{ServiceName}:8080/"]);
            var byPodIP = await sandbox.RunInClientAsync("/usr/bin/curl", ["-sS", "--max-time", "10", $"http://{sandbox.PodIP}:8080/"]);
            using var socket = sandbox.CreateClientSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(ServiceIP, 8080));
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: orders\r\n\r\n"u8.ToArray());
            var raw = await new StreamReader(new NetworkStream(socket)).ReadToEndAsync();

            Assert.True(byName.ExitCode == 0, byName.StandardError);
            Assert.Equal("orders", byName.StandardOutput);
            Assert.True(byPodIP.ExitCode == 0, byPodIP.StandardError);
            Assert.Equal("orders", byPodIP.StandardOutput);
            Assert.EndsWith("\r\n\r\norders", raw, StringComparison.Ordinal);
            lock (peers)
            {
                // The pod sees the client's own address and its own pod IP: the DNAT happened outside the pod, as kube-proxy's does.
                Assert.Equal(3, peers.Count);
                Assert.All(peers, p => Assert.Equal(sandbox.ClientIP, ((IPEndPoint)p.Remote).Address));
                Assert.All(peers, p => Assert.Equal(new IPEndPoint(sandbox.PodIP, 8080), p.Local));
            }
        }
        finally
        {
            listener.Close();
            await serving;
            await sandbox.DisposeAsync();
        }

        Assert.Empty(sandbox.TeardownProblems);
        Assert.Empty(SandboxResources.RemainingAfter(index, tempPath));
    }

    private static async Task ServeAsync(Socket listener, List<(EndPoint Remote, EndPoint Local)> peers)
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            using (connection)
            {
                lock (peers)
                {
                    peers.Add((connection.RemoteEndPoint!, connection.LocalEndPoint!));
                }

                var head = new StringBuilder();
                var buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await connection.ReceiveAsync(buffer);
                    if (read == 0)
                    {
                        break;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\norders"u8.ToArray());
                connection.Shutdown(SocketShutdown.Send);
            }
        }
    }
}
