using System.Buffers;
using System.Net;
using System.Threading.Channels;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// A copy of one connection's (or one request's) client bytes for a mirroring session. The pod's client never waits
/// for it: bytes are queued up to a bound and sent in the background; a session too slow to keep up, or gone, loses
/// this copy (its stream is reset, so it never sees a request cut short as if whole), and the loss is counted.
/// </summary>
internal sealed class MirrorCopy : IDisposable
{
    /// <summary>The most bytes held for one copy; a burst beyond it means the session cannot keep up.</summary>
    public const int MaxQueuedBytes = 1024 * 1024;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    private readonly Channel<byte[]> _queue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly IncomingService _service;
    private readonly CancellationTokenSource _dropping = new();
    private long _queued;
    private int _dropped;

    private MirrorCopy(IncomingService service) => _service = service;

    /// <summary>Starts the copy's stream to <paramref name="session"/> in the background.</summary>
    public static MirrorCopy Start(IncomingService service, IncomingSession session, ushort port, IPEndPoint client, IPEndPoint destination)
    {
        var copy = new MirrorCopy(service);
        _ = copy.SendAsync(session, port, client, destination);
        return copy;
    }

    public void Offer(ReadOnlySequence<byte> bytes)
    {
        if (Volatile.Read(ref _dropped) != 0)
        {
            return;
        }

        if (Interlocked.Add(ref _queued, bytes.Length) > MaxQueuedBytes)
        {
            Drop("the session does not keep up");
            return;
        }

        _queue.Writer.TryWrite(bytes.ToArray());
    }

    /// <summary>The client's side is complete: what is queued is all the copy gets.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Called by the copy's own sender when it is done; a later drop finds nothing to cancel.</summary>
    public void Dispose() => _dropping.Dispose();

    private void Drop(string reason)
    {
        if (Interlocked.Exchange(ref _dropped, 1) == 0)
        {
            _queue.Writer.TryComplete(new OperationCanceledException(reason));
            try
            {
                _dropping.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The copy was already sent and its owner is done with it.
            }
            _service.CopyDropped(reason);
        }
    }

    private async Task SendAsync(IncomingSession session, ushort port, IPEndPoint client, IPEndPoint destination)
    {
        using var self = this;
        try
        {
            var stream = await session.OpenAsync(port, IncomingMode.Mirror, client, destination, _dropping.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                // The local app's answers are not wanted; reading them keeps its side flowing.
                var drain = stream.CopyToAsync(Stream.Null, _dropping.Token);
                try
                {
                    await foreach (var chunk in _queue.Reader.ReadAllAsync(_dropping.Token).ConfigureAwait(false))
                    {
                        await stream.WriteAsync(chunk, _dropping.Token).ConfigureAwait(false);
                        Interlocked.Add(ref _queued, -chunk.Length);
                    }

                    stream.CompleteWrites();
                }
                catch (OperationCanceledException)
                {
                    stream.Reset(ErrorCode.Cancelled, "The mirrored copy was dropped: the session did not keep up.");
                }

                try
                {
                    // A local app that keeps its connection open after answering must not hold the copy forever.
                    await drain.WaitAsync(DrainTimeout).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or RemoteException or ObjectDisposedException or OperationCanceledException or TimeoutException)
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is IOException or RemoteException or ObjectDisposedException)
        {
            Drop($"the session is unavailable ({ex.Message})");
        }

    }
}
