using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.Incoming;

/// <summary>Bridges a pod client's connection and its other side as plain bytes, both ways, each direction's end passed on as a half close.</summary>
internal static class Splice
{
    /// <param name="fromClient">The client's bytes, including any already read while deciding what the connection is.</param>
    /// <param name="copy">Sees every byte the client sends (mirror).</param>
    public static async Task RunAsync(PipeReader fromClient, Socket client, Stream toClient, UpstreamConnection other, Action<ReadOnlySequence<byte>>? copy, CancellationToken ct)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var up = PumpAsync(fromClient, other.Stream, copy, () => EndWrites(other), both.Token);
        var down = PumpAsync(other.Reader, toClient, null, () => client.Shutdown(SocketShutdown.Send), both.Token);
        try
        {
            // One direction ending normally is a half close; one failing ends both.
            var first = await Task.WhenAny(up, down).ConfigureAwait(false);
            if (!first.IsCompletedSuccessfully)
            {
                await both.CancelAsync().ConfigureAwait(false);
            }

            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A side reset or went away; closing both connections (the caller's) is all there is to do.
        }
    }

    /// <summary>Tells the other side no more bytes come: a TCP FIN to a socket, an End frame to a session's stream.</summary>
    public static void EndWrites(UpstreamConnection other)
    {
        if (other.Socket is { } socket)
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        else if (other.Stream is MuxStream stream)
        {
            stream.CompleteWrites();
        }
    }

    private static async Task PumpAsync(PipeReader from, Stream to, Action<ReadOnlySequence<byte>>? copy, Action end, CancellationToken ct)
    {
        while (true)
        {
            var result = await from.ReadAsync(ct).ConfigureAwait(false);
            await HttpBody.WriteAsync(to, result.Buffer, copy, ct).ConfigureAwait(false);
            from.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                end();
                return;
            }
        }
    }
}
