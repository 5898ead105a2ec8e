using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing.Cluster;

/// <summary>
/// The <c>kubernetes</c> service inside the cluster: listens on its cluster IP (port 443) in the sandbox's services
/// namespace and joins each connection to the API double on host loopback, as kube-proxy joins the service to the API
/// server. Bytes pass unchanged, so TLS runs end to end between the pod's client and the API double.
/// </summary>
internal sealed class InClusterApiForwarder : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly IPEndPoint _apiServer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private InClusterApiForwarder(Socket listener, IPEndPoint apiServer)
    {
        _listener = listener;
        _apiServer = apiServer;
        _accepting = AcceptAsync();
    }

    public static async Task<InClusterApiForwarder> StartAsync(PodSandbox sandbox, IPAddress clusterIP, int port, IPEndPoint apiServer, CancellationToken cancellationToken)
    {
        await sandbox.AddClusterIPAsync(clusterIP, cancellationToken);
        var listener = sandbox.CreateServicesSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(clusterIP, port));
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        return new InClusterApiForwarder(listener, apiServer);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stop.Token);
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using (client)
        using (var server = new Socket(_apiServer.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                await server.ConnectAsync(_apiServer, _stop.Token);
                var up = CopyAsync(client, server);
                var down = CopyAsync(server, client);
                if (!(await Task.WhenAny(up, down)).IsCompletedSuccessfully)
                {
                    // One side was reset: the other direction would wait forever for an end.
                    client.Close(0);
                    server.Close(0);
                }

                await Task.WhenAll(up, down);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Either side went away; closing both is all there is to do.
            }
        }
    }

    private async Task CopyAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                to.Shutdown(SocketShutdown.Send);
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
        }
    }
}
