using System.Net.Sockets;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>
/// The abstract Unix socket the agents of one pod meet on. Abstract names belong to a network namespace, so every
/// agent of the pod sees the same one and no other pod's; the kernel frees the name the moment its holder dies,
/// SIGKILL included, so there is never a stale file to clean up.
/// </summary>
internal static class CoordinationSocket
{
    /// <summary>The name agents use unless told otherwise (<c>--coordination</c>).</summary>
    public const string DefaultName = "clusterctx-incoming";

    public static UnixDomainSocketEndPoint EndPoint(string name) => new("\0" + name);

    /// <summary>A listening socket holding the name, or null when another agent holds it.</summary>
    public static Socket? TryListen(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(EndPoint(name));
            socket.Listen(64);
            return socket;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects to the agent holding the name; a <see cref="SocketException"/> when none does (any more).</summary>
    public static async Task<Socket> ConnectAsync(string name, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(EndPoint(name), ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
