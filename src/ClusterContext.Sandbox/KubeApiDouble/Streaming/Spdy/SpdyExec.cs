using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube.Streaming.Spdy;

/// <summary>
/// Exec over SPDY with <c>v4.channel.k8s.io</c>, as the kubelet serves it: the client opens one stream per
/// streamType (error, and stdin, stdout, stderr, resize as asked); once all are there the command runs; its Status is
/// written on the error stream, every stream is closed and the connection ends.
/// </summary>
internal static class SpdyExec
{
    private const string V4 = "v4.channel.k8s.io";
    private static readonly TimeSpan s_streamsTimeout = TimeSpan.FromSeconds(30);

    public static Task ServeAsync(HttpContext context, ExecOptions options, Func<ExecRequest, CancellationToken, Task<int>> exec) =>
        SpdyUpgrade.ServeAsync(context, [V4], (connection, _) => RunAsync(connection, options, exec));

    private static async Task RunAsync(SpdyConnection connection, ExecOptions options, Func<ExecRequest, CancellationToken, Task<int>> exec)
    {
        var expected = new List<string> { "error" };
        if (options.Stdin)
        {
            expected.Add("stdin");
        }

        if (options.Stdout)
        {
            expected.Add("stdout");
        }

        if (options.Stderr && !options.Tty)
        {
            expected.Add("stderr");
        }

        if (options.Tty)
        {
            expected.Add("resize");
        }

        var streams = new Dictionary<string, SpdyStream>(StringComparer.Ordinal);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.Closed))
        {
            timeout.CancelAfter(s_streamsTimeout);
            try
            {
                while (!expected.All(streams.ContainsKey))
                {
                    var stream = await connection.Opened.ReadAsync(timeout.Token).ConfigureAwait(false);
                    streams[stream.Header("streamtype")] = stream;
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                return; // the client went away, or never opened its streams
            }
        }

        var sizes = Channel.CreateUnbounded<TerminalSize>();
        var resizing = streams.TryGetValue("resize", out var resize) ? ReadSizesAsync(resize, sizes.Writer) : Task.CompletedTask;
        var status = await PodExec.RunAsync(
            options, exec, streams.GetValueOrDefault("stdin")?.Input.AsStream(), streams.GetValueOrDefault("stdout")?.AsWriteStream(),
            streams.GetValueOrDefault("stderr")?.AsWriteStream(), sizes.Reader, connection.Closed).ConfigureAwait(false);
        try
        {
            var error = streams["error"];
            await error.WriteAsync(Encoding.UTF8.GetBytes(status.ToJsonString())).ConfigureAwait(false);
            foreach (var stream in streams.Values)
            {
                await stream.CloseWriteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // The client left before the command ended.
        }

        sizes.Writer.TryComplete();
        await resizing.ConfigureAwait(false);
    }

    private static async Task ReadSizesAsync(SpdyStream resize, ChannelWriter<TerminalSize> sizes)
    {
        var pending = new List<byte>();
        while (true)
        {
            var result = await resize.Input.ReadAsync().ConfigureAwait(false);
            foreach (var segment in result.Buffer)
            {
                pending.AddRange(segment.Span);
            }

            resize.Input.AdvanceTo(result.Buffer.End);
            var end = pending.LastIndexOf((byte)'\n');
            if (end >= 0)
            {
                foreach (var size in WebSocketExec.ReadSizes(pending.GetRange(0, end + 1).ToArray()))
                {
                    sizes.TryWrite(size);
                }

                pending.RemoveRange(0, end + 1);
            }

            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
