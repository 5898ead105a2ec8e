using System.Net.Sockets;
using ClusterContext.Session.Host;

namespace ClusterContext.Tests.Session.Host;

/// <summary>The start's way onto a running host's socket: plain blocking calls, then a Socket for the rest of the process.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class BlockingUnixSocketTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clustercontext-unix-").FullName;

    private string SocketPath => Path.Combine(_directory, "host.sock");

    [Fact]
    public void Nothing_listening_is_no_socket_not_an_error()
    {
        Assert.Null(BlockingUnixSocket.TryConnect(SocketPath, TimeSpan.FromSeconds(1)));
        File.WriteAllText(SocketPath, "not a socket");
        Assert.Null(BlockingUnixSocket.TryConnect(SocketPath, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_line_goes_both_ways_a_peek_leaves_the_bytes_and_the_socket_carries_on_as_a_Socket()
    {
        using var connection = await ConnectAsync(TimeSpan.FromSeconds(5));
        var (client, server) = (connection.Client, connection.Server);
        client.Write("hello\n"u8);
        var got = new byte[6];
        await server.ReceiveAsync(got);
        Assert.Equal("hello\n"u8.ToArray(), got);

        await server.SendAsync("ok\nmore"u8.ToArray());
        var buffer = new byte[16];
        var peeked = client.Receive(buffer, peek: true);
        Assert.True(peeked >= 3);
        Assert.Equal(3, client.Receive(buffer.AsSpan(0, 3), peek: false));
        Assert.Equal("ok\n"u8.ToArray(), buffer[..3]);

        // What was left in the descriptor is still there for the Socket it becomes.
        using var socket = client.ToSocket();
        Assert.Equal(0, socket.ReceiveTimeout);
        var rest = new byte[4];
        var read = 0;
        while (read < 4)
        {
            read += await socket.ReceiveAsync(rest.AsMemory(read));
        }

        Assert.Equal("more"u8.ToArray(), rest);
        Assert.Throws<ObjectDisposedException>(() => client.Write("x"u8));
    }

    [Fact]
    public async Task A_host_that_says_nothing_is_an_error_once_the_timeout_passes()
    {
        using var connection = await ConnectAsync(TimeSpan.FromMilliseconds(200));
        var error = Assert.Throws<IOException>(() => connection.Client.Receive(new byte[8], peek: true));
        Assert.Contains("did not answer in time", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_end_of_the_connection_reads_as_zero()
    {
        using var connection = await ConnectAsync(TimeSpan.FromSeconds(5));
        connection.Server.Dispose();
        Assert.Equal(0, connection.Client.Receive(new byte[8], peek: true));
    }

    /// <summary>A listener at <see cref="SocketPath"/>, a blocking client connected to it, and the server's end.</summary>
    private async Task<Connection> ConnectAsync(TimeSpan timeout)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen();
        var client = BlockingUnixSocket.TryConnect(SocketPath, timeout);
        Assert.NotNull(client);
        return new Connection(listener, client, await listener.AcceptAsync());
    }

    private sealed record Connection(Socket Listener, BlockingUnixSocket Client, Socket Server) : IDisposable
    {
        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
            Listener.Dispose();
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
