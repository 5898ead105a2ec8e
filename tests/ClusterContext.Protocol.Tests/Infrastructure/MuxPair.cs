using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Protocol.Tests.Infrastructure;

/// <summary>A client and a server connection over in-memory pipes.</summary>
internal sealed class MuxPair : IAsyncDisposable
{
    private MuxPair(MuxConnection client, MuxConnection server)
    {
        Client = client;
        Server = server;
    }

    public MuxConnection Client { get; }

    public MuxConnection Server { get; }

    public static async Task<MuxPair> StartAsync(Func<IncomingRequest, Task> handler, MuxConnectionOptions? clientOptions = null, MuxConnectionOptions? serverOptions = null)
    {
        var pipes = new DuplexPipePair();
        var server = MuxConnection.AcceptAsync(pipes.Server, Welcome, handler, serverOptions);
        var client = await MuxConnection.ConnectAsync(pipes.Client, "token", "test", clientOptions);
        return new MuxPair(client, await server);
    }

    /// <summary>
    /// A client and a server connection over a loopback TCP connection, as the agent and the library meet: their
    /// writes take the socket path (batches of frames in one gathering send).
    /// </summary>
    public static async Task<MuxPair> StartOverTcpAsync(Func<IncomingRequest, Task> handler, MuxConnectionOptions? clientOptions = null, MuxConnectionOptions? serverOptions = null)
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var accepted = listener.AcceptAsync();
        var clientSocket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await clientSocket.ConnectAsync(listener.LocalEndPoint!);
        var serverSocket = await accepted;
        serverSocket.NoDelay = true;
        var server = MuxConnection.AcceptAsync(new StreamDuplexPipe(new NetworkStream(serverSocket, ownsSocket: true)), Welcome, handler, serverOptions);
        var client = await MuxConnection.ConnectAsync(new StreamDuplexPipe(new NetworkStream(clientSocket, ownsSocket: true)), "token", "test", clientOptions);
        return new MuxPair(client, await server);
    }

    /// <summary><see cref="StartAsync"/> or <see cref="StartOverTcpAsync"/>.</summary>
    public static Task<MuxPair> StartAsync(bool overTcp, Func<IncomingRequest, Task> handler) =>
        overTcp ? StartOverTcpAsync(handler) : StartAsync(handler);

    public static WelcomeMessage Welcome(HelloMessage hello) =>
        hello.Token == "token"
            ? new WelcomeMessage(ProtocolLimits.Version, "test", "s1", 1, 0)
            : throw new RemoteException(ErrorCode.Unauthorized, "wrong token");

    /// <summary>A handler that opens an echo stream for <see cref="TcpConnectRequest"/> and answers pings.</summary>
    public static async Task EchoHandler(IncomingRequest request)
    {
        switch (request.Message)
        {
            case PingRequest ping:
                request.Respond(new PingResponse(ping.Payload));
                return;
            case TcpConnectRequest:
                var stream = request.CreateStream();
                request.Respond(new TcpConnectResponse(new System.Net.IPEndPoint(0, 1), new System.Net.IPEndPoint(0, 2)));
                await using (stream)
                {
                    var buffer = new byte[16 * 1024];
                    int read;
                    while ((read = await stream.ReadAsync(buffer, request.CancellationToken)) > 0)
                    {
                        await stream.WriteAsync(buffer.AsMemory(0, read), request.CancellationToken);
                    }

                    stream.CompleteWrites();
                }

                return;
            default:
                throw new RemoteException(ErrorCode.UnknownRequest, "no");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
