using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ClusterContext.Testing.Kube.Streaming.Spdy;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// The kubelet's side of <c>pods/portforward</c> over WebSocket <c>v4.channel.k8s.io</c>: one TCP connection per
/// requested port, opened by <see cref="KubeApiServer.PortForwardConnect"/>; data on channel
/// 2i, errors on 2i+1, each channel opened with the port as 2 bytes little-endian.
/// </summary>
internal static class PortForwarder
{
    private const string V4 = "v4.channel.k8s.io";

    public static async Task HandleAsync(HttpContext context, string @namespace, string pod, Func<string, string, int, CancellationToken, Task<Socket>> connect)
    {
        // kubectl speaks SPDY: tunnelled in a WebSocket (1.31+), or as an HTTP upgrade (older, and its fallback).
        if (SpdyUpgrade.TunnelRequested(context, SpdyPortForward.Protocol) is not null || SpdyUpgrade.IsRequested(context))
        {
            await SpdyPortForward.ServeAsync(context, @namespace, pod, connect).ConfigureAwait(false);
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            await KubeApiServer.WriteStatusAsync(context, 400, "BadRequest", "Upgrade request required").ConfigureAwait(false);
            return;
        }

        if (!context.WebSockets.WebSocketRequestedProtocols.Contains(V4))
        {
            await KubeApiServer.WriteStatusAsync(context, 400, "BadRequest",
                $"unable to upgrade: no supported subprotocol among {string.Join(", ", context.WebSockets.WebSocketRequestedProtocols)}").ConfigureAwait(false);
            return;
        }

        var ports = context.Request.Query["ports"].SelectMany(p => (p ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (ports.Count != 1 || !ushort.TryParse(ports[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
        {
            await KubeApiServer.WriteStatusAsync(context, 400, "BadRequest", "query parameter \"ports\" must name exactly one port (1-65535) in this server").ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(V4).ConfigureAwait(false);
        var prefix = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(prefix, port);
        await SendAsync(socket, 0, prefix, context.RequestAborted).ConfigureAwait(false);
        await SendAsync(socket, 1, prefix, context.RequestAborted).ConfigureAwait(false);
        Socket tcp;
        try
        {
            tcp = await connect(@namespace, pod, port, context.RequestAborted).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            var message = $"error forwarding port {port} to pod {pod}, uid : failed to connect to localhost:{port} inside namespace: {ex.Message}";
            await SendAsync(socket, 1, Encoding.UTF8.GetBytes(message), context.RequestAborted).ConfigureAwait(false);
            await CloseAsync(socket).ConfigureAwait(false);
            await DrainAsync(socket).ConfigureAwait(false);
            return;
        }

        using var connection = tcp;

        // As the kubelet's (Go sets TCP_NODELAY on every connection): small writes are not held back for an ACK.
        tcp.NoDelay = true;

        // Neither pump is ever cancelled: cancelling a WebSocket operation aborts the socket, dropping data not yet
        // flushed. When one side ends the other is ended in order, as the kubelet does it (no half-close).
        var fromPod = PumpFromPodAsync(tcp, socket, CancellationToken.None);
        var toPod = PumpToPodAsync(socket, tcp, CancellationToken.None);
        if (await Task.WhenAny(fromPod, toPod).ConfigureAwait(false) == fromPod)
        {
            // The pod closed the connection: close the WebSocket after the data sent, and wait for the client's reply.
            await CloseAsync(socket).ConfigureAwait(false);
        }
        else
        {
            // The client closed or left: end the pod connection, then answer a close the client started.
            tcp.Close();
            if (socket.State == WebSocketState.CloseReceived)
            {
                await CloseAsync(socket).ConfigureAwait(false);
            }
        }

        var both = Task.WhenAll(fromPod, toPod);
        if (await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) != both)
        {
            socket.Abort(); // a client that never answers the close
            tcp.Close();
        }

        foreach (var pump in new[] { fromPod, toPod })
        {
            try
            {
                await pump.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or SocketException or IOException or ObjectDisposedException)
            {
                // That side was torn down with the other.
            }
        }
    }

    private static async Task PumpFromPodAsync(Socket tcp, WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024 + 1];
        while (true)
        {
            var read = await tcp.ReceiveAsync(buffer.AsMemory(1), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, read + 1), WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task PumpToPodAsync(WebSocket socket, Socket tcp, CancellationToken cancellationToken)
    {
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                length += result.Count;
            }
            while (!result.EndOfMessage && length < buffer.Length);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            // Channel 0 is data; a client writing on the error channel is ignored, as the kubelet does.
            if (length > 1 && buffer[0] == 0)
            {
                await tcp.SendAsync(buffer.AsMemory(1, length - 1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static Task SendAsync(WebSocket socket, byte channel, byte[] payload, CancellationToken cancellationToken)
    {
        var message = new byte[payload.Length + 1];
        message[0] = channel;
        payload.CopyTo(message, 1);
        return socket.SendAsync(message, WebSocketMessageType.Binary, true, cancellationToken);
    }

    /// <summary>Reads (and drops) what the client still sends until its close arrives, for up to 2 seconds.</summary>
    private static async Task DrainAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var buffer = new byte[4096];
        try
        {
            while ((await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token).ConfigureAwait(false)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client left without closing, or never answered.
        }
    }

    /// <summary>Sends the close frame (after all data sent); the receiving pump sees the client's answer.</summary>
    private static async Task CloseAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away first.
        }
    }
}
