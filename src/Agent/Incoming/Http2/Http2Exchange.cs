using System.Threading.Channels;
using ClusterContext.Agent.Incoming.Http2.Hpack;

namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>
/// One stream of the pod client's connection and the stream it became on an upstream connection (the original app's
/// or a session's). Two pumps move what each side sent to the other, each waiting only on its own destination's
/// windows; mirror copies get what the client sent without ever holding it back.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its token source is cancelled from other threads at any time, and is never linked or timed: there is nothing to free.")]
internal sealed class Http2Exchange
{
    private static readonly List<HeaderField> BadGatewayHeaders = [new(":status", "502"), new("content-length", "0")];

    private readonly Http2Connection _client;
    private readonly Http2Stream _clientStream;
    private readonly Task<Http2Connection?> _target;
    private readonly Http2MirrorCopy[] _copies;
    private readonly Action<string> _badGateway;
    private readonly Channel<Http2Item> _up = Channel.CreateUnbounded<Http2Item>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Channel<Http2Item> _down = Channel.CreateUnbounded<Http2Item>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _upCancel = new();
    private readonly Lock _gate = new();
    private Http2Connection? _upstream;
    private Http2Stream? _upStream;
    private bool _responded;
    private bool _downDone;

    public Http2Exchange(Http2Connection client, Http2Stream clientStream, Task<Http2Connection?> target, Http2MirrorCopy[] copies, Action<string> badGateway)
    {
        _client = client;
        _clientStream = clientStream;
        _target = target;
        _copies = copies;
        _badGateway = badGateway;
        ClientSide = new ClientSink(this);
        Completion = RunAsync();
    }

    /// <summary>Receives the pod client's frames for this stream.</summary>
    public IHttp2StreamSink ClientSide { get; }

    public Task Completion { get; }

    /// <summary>The mirrored copies of this stream, each done once its local app answered it (or it was dropped).</summary>
    public IEnumerable<Task> CopyCompletions => _copies.Select(c => c.Completion);

    private async Task RunAsync()
    {
        await Task.Yield();
        await Task.WhenAll(PumpUpAsync(), PumpDownAsync()).ConfigureAwait(false);
        _client.Forget(_clientStream);
        if (_upStream is { } upStream)
        {
            _upstream!.Forget(upStream);
        }
    }

    /// <summary>Client to upstream: request headers (which open the upstream stream), body, trailers, reset.</summary>
    private async Task PumpUpAsync()
    {
        var ct = _upCancel.Token;
        try
        {
            var upstream = await _target.WaitAsync(ct).ConfigureAwait(false);
            if (upstream is null)
            {
                _down.Writer.TryWrite(Http2Item.LostBy("the app cannot be reached"));
                return;
            }

            _upstream = upstream;
            await foreach (var item in _up.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (item.Reset is { } code)
                {
                    if (_upStream is { } open)
                    {
                        await upstream.ResetAsync(open, code).ConfigureAwait(false);
                    }

                    return;
                }

                if (item.Lost is not null)
                {
                    if (_upStream is { } open)
                    {
                        await upstream.ResetAsync(open, Http2ErrorCode.Cancel).ConfigureAwait(false);
                    }

                    return;
                }

                if (item.Fields is { } fields)
                {
                    if (_upStream is null)
                    {
                        await upstream.OpenStreamAsync(fields, item.End, new UpstreamSink(this), ct).ConfigureAwait(false);
                    }
                    else
                    {
                        await upstream.WriteHeadersAsync(_upStream, fields, item.End, ct).ConfigureAwait(false);
                    }
                }
                else
                {
                    await upstream.WriteDataAsync(_upStream!, item.Data, item.End, ct).ConfigureAwait(false);
                    _client.Consumed(_clientStream, item.Data.Length);
                }

                if (item.End)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (IsStreamFailure(ex))
        {
            if (!ct.IsCancellationRequested)
            {
                _down.Writer.TryWrite(Http2Item.LostBy(ex.Message));
            }

            if (_upStream is { } open && _upstream is { } upstream)
            {
                await TryResetAsync(upstream, open, Http2ErrorCode.Cancel).ConfigureAwait(false);
            }
        }
    }

    internal static async Task TryResetAsync(Http2Connection connection, Http2Stream stream, Http2ErrorCode code)
    {
        try
        {
            await connection.ResetAsync(stream, code).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStreamFailure(ex))
        {
            // Its connection is gone, and the stream with it.
        }
    }

    /// <summary>Upstream to client: response headers (interim ones too), body, trailers, reset; a 502 when the upstream failed before answering.</summary>
    private async Task PumpDownAsync()
    {
        try
        {
            await foreach (var item in _down.Reader.ReadAllAsync(_client.Closed).ConfigureAwait(false))
            {
                if (item.Reset is { } code)
                {
                    await _client.ResetAsync(_clientStream, code).ConfigureAwait(false);
                    return;
                }

                if (item.Lost is { } reason)
                {
                    if (!_responded && !_clientStream.LocalEnded)
                    {
                        _badGateway(reason);
                        await _client.WriteHeadersAsync(_clientStream, BadGatewayHeaders, true, _client.Closed).ConfigureAwait(false);
                        await StopRequestAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        await _client.ResetAsync(_clientStream, Http2ErrorCode.InternalError).ConfigureAwait(false);
                    }

                    return;
                }

                if (item.Fields is { } fields)
                {
                    _responded |= !IsInterim(fields);
                    await _client.WriteHeadersAsync(_clientStream, fields, item.End, _client.Closed).ConfigureAwait(false);
                }
                else
                {
                    await _client.WriteDataAsync(_clientStream, item.Data, item.End, _client.Closed).ConfigureAwait(false);
                    _upstream?.Consumed(_upStream!, item.Data.Length);
                }

                if (item.End)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (IsStreamFailure(ex))
        {
            // The client's connection is gone: the upstream stream goes with it.
            _upCancel.Cancel();
        }
        finally
        {
            lock (_gate)
            {
                _downDone = true;
            }
        }
    }

    /// <summary>The answer is complete while the client still sends: it is asked to stop, without error (RFC 9113 section 8.1).</summary>
    private async Task StopRequestAsync()
    {
        if (!_clientStream.RemoteEnded)
        {
            await _upCancel.CancelAsync().ConfigureAwait(false);
            await _client.ResetAsync(_clientStream, Http2ErrorCode.NoError).ConfigureAwait(false);
        }
    }

    private static bool IsInterim(List<HeaderField> fields) =>
        fields.Find(f => f.Name == ":status") is { Name: not null } status && status.Value.Length == 3 && status.Value[0] == '1';

    internal static bool IsStreamFailure(Exception ex) =>
        ex is IOException or ObjectDisposedException or OperationCanceledException or ChannelClosedException or System.Net.Sockets.SocketException or Protocol.RemoteException or InvalidOperationException;

    private void FromClient(Http2Item item)
    {
        foreach (var copy in _copies)
        {
            copy.Offer(item);
        }

        _up.Writer.TryWrite(item);
        if (item.End)
        {
            _up.Writer.TryComplete();
        }
    }

    /// <summary>The client reset the stream or its connection ended: both pumps stop, and the upstream stream is reset.</summary>
    private void Abandon(Http2Item item)
    {
        foreach (var copy in _copies)
        {
            copy.Offer(item);
        }

        _upCancel.Cancel();
        _down.Writer.TryComplete();
    }

    private void FromUpstream(Http2Item item)
    {
        bool downDone;
        lock (_gate)
        {
            downDone = _downDone;
            if (!downDone)
            {
                _down.Writer.TryWrite(item);
            }
        }

        if (item.Reset is not null || item.Lost is not null)
        {
            _upCancel.Cancel();
            if (downDone && item.Reset is { } code)
            {
                // The answer went out whole; the upstream stops the rest of the request (a NO_ERROR reset), and so does the client.
                _ = TryResetAsync(_client, _clientStream, code);
            }
        }
    }

    private sealed class ClientSink(Http2Exchange exchange) : IHttp2StreamSink
    {
        public void OnOpened(Http2Stream stream)
        {
        }

        public void OnHeaders(List<HeaderField> fields, bool endStream) => exchange.FromClient(new Http2Item(fields, default, endStream));

        public void OnData(ReadOnlyMemory<byte> data, bool endStream) => exchange.FromClient(new Http2Item(null, data, endStream));

        public void OnReset(Http2ErrorCode code) => exchange.Abandon(Http2Item.ResetWith(code));

        public void OnLost(string reason) => exchange.Abandon(Http2Item.LostBy(reason));
    }

    private sealed class UpstreamSink(Http2Exchange exchange) : IHttp2StreamSink
    {
        public void OnOpened(Http2Stream stream) => exchange._upStream = stream;

        public void OnHeaders(List<HeaderField> fields, bool endStream) => exchange.FromUpstream(new Http2Item(fields, default, endStream));

        public void OnData(ReadOnlyMemory<byte> data, bool endStream) => exchange.FromUpstream(new Http2Item(null, data, endStream));

        public void OnReset(Http2ErrorCode code) => exchange.FromUpstream(Http2Item.ResetWith(code));

        public void OnLost(string reason) => exchange.FromUpstream(Http2Item.LostBy(reason));
    }
}
