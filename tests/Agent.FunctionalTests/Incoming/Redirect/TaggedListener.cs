using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>
/// A listener in the pod's network namespace, on every address of both families, that answers each connection
/// with its tag byte: which listener a client reached is what the client reads.
/// </summary>
internal sealed class TaggedListener : IDisposable
{
    private readonly Socket _socket;
    private readonly byte _tag;

    public TaggedListener(PodSandbox sandbox, byte tag, int port = 0)
    {
        _tag = tag;
        _socket = sandbox.CreatePodSocket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        _socket.DualMode = true;
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        _socket.Listen(64);
        Port = (ushort)((IPEndPoint)_socket.LocalEndPoint!).Port;
        _ = AcceptAsync();
    }

    public ushort Port { get; }

    public void Dispose() => _socket.Dispose();

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await _socket.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = AnswerAsync(connection);
        }
    }

    private async Task AnswerAsync(Socket connection)
    {
        using (connection)
        {
            try
            {
                // One tag per connection at once, then one per byte the client sends: a connection opened earlier
                // keeps telling where it ends up.
                await connection.SendAsync(new[] { _tag });
                var buffer = new byte[1];
                while (await connection.ReceiveAsync(buffer) > 0)
                {
                    await connection.SendAsync(new[] { _tag });
                }
            }
            catch (SocketException)
            {
            }
        }
    }
}
