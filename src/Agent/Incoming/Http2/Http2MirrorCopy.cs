using System.Threading.Channels;
using ClusterContext.Agent.Incoming.Http2.Hpack;

namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>
/// A copy of one client stream for a mirroring session, as a stream of its own on that session's connection. The
/// pod's client never waits for it: what the client sends is queued up to a bound and sent in the background; a
/// session that falls behind, or is gone, loses this copy (its stream is reset) and the loss is counted. The local
/// app's answers are read and dropped.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its token source is cancelled from other threads at any time, and is never linked or timed: there is nothing to free.")]
internal sealed class Http2MirrorCopy : IHttp2StreamSink
{
    private readonly Channel<Http2Item> _queue = Channel.CreateUnbounded<Http2Item>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _dropping = new();
    private readonly Task<Http2Connection?> _target;
    private readonly Action<string> _dropped;
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Http2Connection? _connection;
    private Http2Stream? _stream;
    private long _queued;
    private int _done;
    private int _requestEnded;

    public Http2MirrorCopy(Task<Http2Connection?> target, Action<string> dropped)
    {
        _target = target;
        _dropped = dropped;
        _ = SendAsync();
    }

    /// <summary>Done: the local app answered the copy in full, or the copy was dropped or lost.</summary>
    public Task Completion => _completed.Task;

    public void Offer(Http2Item item)
    {
        // Once the client's request is whole, the copy has all it needs: the client's connection ending (or its reset
        // while it waits for the answer) must not drop a copy still on its way to the session.
        if (Volatile.Read(ref _done) != 0 || Volatile.Read(ref _requestEnded) != 0)
        {
            return;
        }

        if (item.Reset is not null || item.Lost is not null)
        {
            Drop(null); // the client gave up the stream: so does its copy
            return;
        }

        if (Interlocked.Add(ref _queued, item.Data.Length) > MirrorCopy.MaxQueuedBytes)
        {
            Drop("the session does not keep up");
            return;
        }

        _queue.Writer.TryWrite(item);
        if (item.End)
        {
            Volatile.Write(ref _requestEnded, 1);
            _queue.Writer.TryComplete();
        }
    }

    private void Drop(string? reason)
    {
        if (Interlocked.Exchange(ref _done, 1) != 0)
        {
            return;
        }

        _completed.TrySetResult();
        _queue.Writer.TryComplete();
        _dropping.Cancel();
        if (_connection is { } connection && _stream is { } stream)
        {
            _ = Http2Exchange.TryResetAsync(connection, stream, Http2ErrorCode.Cancel);
        }

        if (reason is not null)
        {
            _dropped(reason);
        }
    }

    private async Task SendAsync()
    {
        var ct = _dropping.Token;
        try
        {
            var connection = await _target.WaitAsync(ct).ConfigureAwait(false);
            if (connection is null)
            {
                Drop("the session is unavailable");
                return;
            }

            _connection = connection;
            await foreach (var item in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (item.Fields is { } fields)
                {
                    if (_stream is null)
                    {
                        await connection.OpenStreamAsync(fields, item.End, this, ct).ConfigureAwait(false);
                    }
                    else
                    {
                        await connection.WriteHeadersAsync(_stream, fields, item.End, ct).ConfigureAwait(false);
                    }
                }
                else
                {
                    await connection.WriteDataAsync(_stream!, item.Data, item.End, ct).ConfigureAwait(false);
                }

                Interlocked.Add(ref _queued, -item.Data.Length);
                if (item.End && _stream is { RemoteEnded: true } done)
                {
                    connection.Forget(done);
                }
            }
        }
        catch (Exception ex) when (Http2Exchange.IsStreamFailure(ex))
        {
            if (!ct.IsCancellationRequested)
            {
                Drop($"the session is unavailable ({ex.Message})");
            }

            _completed.TrySetResult();
        }
    }

    void IHttp2StreamSink.OnOpened(Http2Stream stream) => _stream = stream;

    void IHttp2StreamSink.OnHeaders(List<HeaderField> fields, bool endStream) => Finished(endStream);

    void IHttp2StreamSink.OnData(ReadOnlyMemory<byte> data, bool endStream)
    {
        // Nobody forwards the local app's answer: its window comes back at once.
        if (_connection is { } connection && _stream is { } stream)
        {
            connection.Consumed(stream, data.Length);
        }

        Finished(endStream);
    }

    void IHttp2StreamSink.OnReset(Http2ErrorCode code) => Finished(true);

    void IHttp2StreamSink.OnLost(string reason)
    {
        if (Volatile.Read(ref _done) == 0 && _queue.Reader.Completion.IsCompleted is false)
        {
            Drop($"the session is unavailable ({reason})");
        }

        _completed.TrySetResult();
    }

    private void Finished(bool endStream)
    {
        if (endStream)
        {
            _completed.TrySetResult();
        }

        if (endStream && _connection is { } connection && _stream is { LocalEnded: true } stream)
        {
            connection.Forget(stream);
        }
    }
}
