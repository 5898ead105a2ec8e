using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube.Streaming.Spdy;

/// <summary>
/// The kubelet's <c>portforward.k8s.io</c> over SPDY: each forwarded connection is a pair of streams the client
/// opens (streamType error and data, with its port and requestID headers); the kubelet connects to the port, copies
/// both ways, and when the pod's side ends closes both streams. A failure to connect is a message on the error stream.
/// </summary>
internal static class SpdyPortForward
{
    public const string Protocol = "portforward.k8s.io";

    public static Task ServeAsync(HttpContext context, string @namespace, string pod, Func<string, string, int, CancellationToken, Task<Socket>> connect) =>
        SpdyUpgrade.ServeAsync(context, [Protocol], (connection, _) => ForwardAsync(connection, @namespace, pod, connect));

    private static async Task ForwardAsync(SpdyConnection connection, string @namespace, string pod, Func<string, string, int, CancellationToken, Task<Socket>> connect)
    {
        var pairs = new Dictionary<string, (SpdyStream? Error, SpdyStream? Data)>(StringComparer.Ordinal);
        var forwards = new List<Task>();
        await foreach (var stream in connection.Opened.ReadAllAsync().ConfigureAwait(false))
        {
            var type = stream.Header("streamtype");
            if (type is not ("error" or "data"))
            {
                await stream.ResetAsync().ConfigureAwait(false);
                continue;
            }

            var id = RequestId(stream, type);
            pairs.TryGetValue(id, out var pair);
            pair = type == "error" ? pair with { Error = stream } : pair with { Data = stream };
            if (pair is { Error: { } error, Data: { } data })
            {
                pairs.Remove(id);
                forwards.Add(ForwardPairAsync(error, data, @namespace, pod, connect));
            }
            else
            {
                pairs[id] = pair;
            }
        }

        await Task.WhenAll(forwards).ConfigureAwait(false);
    }

    /// <summary>The pair's request id; clients without the header pair consecutive streams (error N, data N+2), as the kubelet guesses.</summary>
    private static string RequestId(SpdyStream stream, string type)
    {
        var id = stream.Header("requestid");
        return id.Length > 0 ? id : (type == "error" ? stream.Id : stream.Id - 2).ToString(CultureInfo.InvariantCulture);
    }

    private static async Task ForwardPairAsync(SpdyStream error, SpdyStream data, string @namespace, string pod, Func<string, string, int, CancellationToken, Task<Socket>> connect)
    {
        try
        {
            if (!ushort.TryParse(data.Header("port"), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
            {
                await FailAsync(error, data, $"invalid port header \"{data.Header("port")}\"").ConfigureAwait(false);
                return;
            }

            Socket socket;
            try
            {
                socket = await connect(@namespace, pod, port, data.WasReset).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                await FailAsync(error, data, $"error forwarding port {port} to pod {pod}, uid : failed to connect to localhost:{port} inside namespace: {ex.Message}").ConfigureAwait(false);
                return;
            }

            using (socket)
            {
                var toPod = ToPodAsync(data, socket);
                await FromPodAsync(socket, data).ConfigureAwait(false);

                // The pod's side ended: both streams end, as the kubelet closes them; the client then resets the data stream.
                await data.CloseWriteAsync().ConfigureAwait(false);
                await error.CloseWriteAsync().ConfigureAwait(false);
                await toPod.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // The client or the connection went away.
        }
    }

    private static async Task FailAsync(SpdyStream error, SpdyStream data, string message)
    {
        await error.WriteAsync(Encoding.UTF8.GetBytes(message)).ConfigureAwait(false);
        await error.CloseWriteAsync().ConfigureAwait(false);
        await data.CloseWriteAsync().ConfigureAwait(false);
    }

    private static async Task FromPodAsync(Socket socket, SpdyStream data)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, data.WasReset).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                await data.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
            // Reset by the client, the connection ended, or the pod's side failed.
        }
    }

    /// <summary>Copies what the client sends to the pod; its FIN half-closes the pod connection, a reset closes it.</summary>
    private static async Task ToPodAsync(SpdyStream data, Socket socket)
    {
        try
        {
            while (true)
            {
                var result = await data.Input.ReadAsync().ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    await socket.SendAsync(segment, SocketFlags.None).ConfigureAwait(false);
                }

                data.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            if (data.WasReset.IsCancellationRequested)
            {
                socket.Close();
            }
            else
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The pod's side is gone.
        }
        finally
        {
            await data.Input.CompleteAsync().ConfigureAwait(false);
        }
    }
}
