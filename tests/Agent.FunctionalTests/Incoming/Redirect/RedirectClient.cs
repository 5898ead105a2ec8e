using System.Net;
using System.Net.Sockets;
using ClusterContext.Agent.Incoming;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>Where a new connection from some vantage point ends up: the tag of the listener that answered it.</summary>
internal static class RedirectClient
{
    public const byte App = (byte)'A';
    public const byte Redirected = (byte)'R';

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);

    /// <summary>A client of the pod from the host (another node, as far as the pod can tell).</summary>
    public static Task<byte> FromHostAsync(IPEndPoint target, CancellationToken cancellationToken = default) =>
        ConnectAsync(new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp), target, cancellationToken);

    /// <summary>A client in the services' network namespace (another pod of the cluster, reaching this one over its link).</summary>
    public static Task<byte> FromServicesAsync(PodSandbox sandbox, IPEndPoint target) =>
        ConnectAsync(sandbox.CreateServicesSocket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp), target);

    /// <summary>A client inside the pod (another container, or the app calling itself); marked like the agent's own sockets when asked.</summary>
    public static Task<byte> FromPodAsync(PodSandbox sandbox, IPEndPoint target, bool exemptMark = false)
    {
        var socket = sandbox.CreatePodSocket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (exemptMark)
        {
            SocketMark.Set(socket, IPortRedirector.ExemptMark);
        }

        return ConnectAsync(socket, target);
    }

    public static async Task<byte> ConnectAsync(Socket socket, IPEndPoint target, CancellationToken cancellationToken = default)
    {
        using (socket)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_timeout);
            await socket.ConnectAsync(target, timeout.Token);
            var tag = new byte[1];
            var read = await socket.ReceiveAsync(tag, SocketFlags.None, timeout.Token);
            Assert.Equal(1, read);
            return tag[0];
        }
    }

    /// <summary>Sends one byte on an open connection and returns the tag it is answered with.</summary>
    public static async Task<byte> AskAgainAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        await socket.SendAsync(new byte[] { 1 }, SocketFlags.None, timeout.Token);
        var tag = new byte[1];
        Assert.Equal(1, await socket.ReceiveAsync(tag, SocketFlags.None, timeout.Token));
        return tag[0];
    }
}
