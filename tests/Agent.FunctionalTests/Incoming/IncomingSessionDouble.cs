using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>
/// A session as the library will be: it speaks the real protocol to the real agent, subscribes, and serves each
/// IncomingConnection stream, by default by splicing it to a local app on a fresh loopback connection.
/// </summary>
internal sealed class IncomingSessionDouble : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Func<IncomingConnectionRequest, MuxStream, Task> _serve;

    private IncomingSessionDouble(Socket socket, Func<IncomingConnectionRequest, MuxStream, Task> serve)
    {
        _socket = socket;
        _serve = serve;
    }

    public MuxConnection Connection { get; private set; } = null!;

    /// <summary>When set, the session refuses incoming connections, as the library does when its local app is not listening.</summary>
    public bool RefuseConnections { get; set; }

    /// <summary>Every IncomingConnection the agent opened, in order.</summary>
    public ConcurrentQueue<IncomingConnectionRequest> Requests { get; } = new();

    public static Task<IncomingSessionDouble> ConnectAsync(IPEndPoint agent, string clientName, int localAppPort) =>
        ConnectAsync(agent, clientName, (_, stream) => SpliceToAsync(stream, localAppPort));

    public static async Task<IncomingSessionDouble> ConnectAsync(IPEndPoint agent, string clientName, Func<IncomingConnectionRequest, MuxStream, Task> serve)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(agent);
        var session = new IncomingSessionDouble(socket, serve);
        session.Connection = await MuxConnection.ConnectAsync(new StreamDuplexPipe(new NetworkStream(socket, ownsSocket: true)), SandboxAgentFixture.Token, clientName, handler: session.HandleAsync);
        return session;
    }

    public Task<SubscribeResponse> SubscribeAsync(ushort port, IncomingMode mode, HttpFilter? filter = null) =>
        Connection.RequestAsync<SubscribeResponse>(new SubscribeRequest(port, mode, filter));

    public static HttpFilter Header(string pattern) => new(HttpFilterKind.Header, pattern, []);

    /// <summary>What the session library does with a stream: a fresh connection to the local app, bytes both ways, ends passed on.</summary>
    public static async Task SpliceToAsync(MuxStream stream, int localAppPort)
    {
        using var local = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await local.ConnectAsync(new IPEndPoint(IPAddress.Loopback, localAppPort));
        await using var localStream = new NetworkStream(local, ownsSocket: false);
        var up = Task.Run(async () =>
        {
            await stream.CopyToAsync(localStream);
            local.Shutdown(SocketShutdown.Send);
        });
        var down = Task.Run(async () =>
        {
            await localStream.CopyToAsync(stream);
            stream.CompleteWrites();
        });
        try
        {
            // The agent resets the stream once it has a response; the local connection must not outlive it.
            if (await Task.WhenAny(up, down) is { IsCompletedSuccessfully: false })
            {
                local.Dispose();
            }

            await Task.WhenAll(up, down);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or ClusterContext.Protocol.RemoteException)
        {
            // The agent closed the stream once it had the response: the local connection goes with it.
        }
    }

    private async Task HandleAsync(IncomingRequest request)
    {
        if (request.Message is not IncomingConnectionRequest incoming)
        {
            throw new ClusterContext.Protocol.RemoteException(ClusterContext.Protocol.ErrorCode.UnknownRequest, "not served here");
        }

        Requests.Enqueue(incoming);
        if (RefuseConnections)
        {
            throw new ClusterContext.Protocol.RemoteException(ClusterContext.Protocol.ErrorCode.ConnectionRefused, "the local app does not accept connections");
        }

        var stream = request.CreateStream();
        request.Respond(new IncomingConnectionResponse());
        await using (stream)
        {
            await _serve(incoming, stream);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        _socket.Dispose();
    }
}
