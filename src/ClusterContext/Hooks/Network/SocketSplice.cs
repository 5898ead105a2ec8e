using System.Net.Sockets;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Joins a local TCP socket and a stream of the agent connection, both ways, each direction ending with a half-close
/// (FIN one way, end of stream the other) so request/response protocols that wait for the other side's end work.
/// </summary>
internal static class SocketSplice
{
    /// <summary>Copies until both directions ended; an abrupt end of either side closes both. Disposes neither.</summary>
    public static async Task RunAsync(Socket local, MuxStream remote)
    {
        await using var stream = new NetworkStream(local, ownsSocket: false);
        var toRemote = ToRemoteAsync(stream, remote);
        var fromRemote = FromRemoteAsync(remote, local);
        try
        {
            var first = await Task.WhenAny(toRemote, fromRemote).ConfigureAwait(false);
            if (!first.IsCompletedSuccessfully)
            {
                local.Close(0);
            }

            await Task.WhenAll(toRemote, fromRemote).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // One side ended abruptly; closing both is all that is left to do.
        }
    }

    private static async Task ToRemoteAsync(NetworkStream local, MuxStream remote)
    {
        await local.CopyToAsync(remote, 64 * 1024).ConfigureAwait(false);
        remote.CompleteWrites();
    }

    // The remote end reaches the local socket with the last bytes before it, not one wake-up later: a client that finds
    // the connection still open in between (HttpClient's pool after an HTTP/1.0 response) would send its next request on it.
    private static async Task FromRemoteAsync(MuxStream remote, Socket local)
    {
        while (true)
        {
            var result = await remote.ReadBufferAsync(CancellationToken.None).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCompleted)
            {
                await TcpEnd.SendLastAsync(local, buffer, CancellationToken.None).ConfigureAwait(false);
                remote.AdvanceBuffer(buffer, buffer.Length);
                return;
            }

            foreach (var segment in buffer)
            {
                await local.SendAsync(segment, SocketFlags.None).ConfigureAwait(false);
            }

            remote.AdvanceBuffer(buffer, buffer.Length);
        }
    }
}
