using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube.Streaming;

/// <summary>
/// Exec over WebSocket as the API server serves it since 1.30: channel 0 stdin, 1 stdout, 2 stderr, 3 the error
/// stream (the kubelet's Status), 4 resize (JSON terminal sizes); with <c>v5.channel.k8s.io</c> the client ends
/// its stdin with a close signal (channel 255, then the channel closed). The connection closes normally once the
/// command's output and Status are sent.
/// </summary>
internal static class WebSocketExec
{
    private const string V5 = "v5.channel.k8s.io";
    private const string V4 = "v4.channel.k8s.io";

    public static async Task ServeAsync(HttpContext context, ExecOptions options, Func<ExecRequest, CancellationToken, Task<int>> exec)
    {
        var requested = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = requested.Contains(V5) ? V5 : requested.Contains(V4) ? V4 : null;
        if (protocol is null)
        {
            await KubeApiServer.WriteStatusAsync(context, 400, "BadRequest",
                $"unable to upgrade: no supported subprotocol among {string.Join(", ", requested)}").ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol).ConfigureAwait(false);
        using var channels = new WebSocketChannels(socket);
        var stdin = options.Stdin ? new Pipe() : null;
        var sizes = Channel.CreateUnbounded<TerminalSize>();
        using var clientGone = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var receiving = ReceiveAsync(socket, stdin?.Writer, sizes.Writer, clientGone);
        var status = await PodExec.RunAsync(options, exec, stdin?.Reader.AsStream(), options.Stdout ? channels.Writer(1) : null,
            options.Stderr ? channels.Writer(2) : null, sizes.Reader, clientGone.Token).ConfigureAwait(false);
        try
        {
            await channels.SendAsync(3, Encoding.UTF8.GetBytes(status.ToJsonString()), clientGone.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client left before the command ended.
        }

        if (await channels.CloseOutputAsync().ConfigureAwait(false)
            && await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) != receiving)
        {
            socket.Abort(); // a client that never answers the close
        }

        await receiving.ConfigureAwait(false);
    }

    /// <summary>Reads the client's messages until its close: stdin data and close, terminal sizes.</summary>
    private static async Task ReceiveAsync(WebSocket socket, PipeWriter? stdin, ChannelWriter<TerminalSize> sizes, CancellationTokenSource clientGone)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).ConfigureAwait(false);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (length == 0)
                {
                    continue;
                }

                switch (buffer[0])
                {
                    case 0 when stdin is not null && length > 1:
                        await stdin.WriteAsync(buffer.AsMemory(1, length - 1)).ConfigureAwait(false);
                        break;
                    case 4:
                        foreach (var size in ReadSizes(buffer.AsSpan(1, length - 1)))
                        {
                            sizes.TryWrite(size);
                        }

                        break;
                    case WebSocketChannels.CloseSignal when length > 1 && buffer[1] == 0 && stdin is not null:
                        await stdin.CompleteAsync().ConfigureAwait(false);
                        stdin = null;
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away without a close.
        }
        finally
        {
            if (stdin is not null)
            {
                await stdin.CompleteAsync().ConfigureAwait(false);
            }

            sizes.TryComplete();
            await clientGone.CancelAsync().ConfigureAwait(false); // the client closed: what still runs for it is ended
        }
    }

    /// <summary>One or more JSON sizes (a Go json.Encoder writes each with a newline).</summary>
    internal static List<TerminalSize> ReadSizes(ReadOnlySpan<byte> json)
    {
        var sizes = new List<TerminalSize>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowMultipleValues = true });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    continue;
                }

                using var document = JsonDocument.ParseValue(ref reader);
                var root = document.RootElement;
                if (root.TryGetProperty("Width", out var width) && root.TryGetProperty("Height", out var height)
                    && width.TryGetUInt16(out var w) && height.TryGetUInt16(out var h))
                {
                    sizes.Add(new TerminalSize(w, h));
                }
            }
        }
        catch (JsonException)
        {
            // A malformed size is ignored, as the kubelet logs and skips it.
        }

        return sizes;
    }
}
