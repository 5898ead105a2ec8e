using System.Buffers;
using System.IO.Pipelines;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Incoming;

internal sealed partial class PodConnection
{
    /// <summary>How long a connection may stay silent before it is taken for a server-first protocol and passed through.</summary>
    private static readonly TimeSpan SniffTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The stream to the session that took this connection's last matched request, kept for its next one.</summary>
    private (IncomingSession Session, UpstreamConnection Stream)? _sessionStream;

    /// <summary>
    /// The connection to the original app that served this connection's last unmatched request, kept for its next one:
    /// the app sees one keep-alive connection per pod client connection, and a request costs no trip to the pool.
    /// </summary>
    private UpstreamConnection? _original;

    /// <summary>When <see cref="_original"/> last finished an exchange (<see cref="Environment.TickCount64"/>).</summary>
    private long _originalIdleSince;

    private static readonly byte[] BadGateway = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();

    private async Task RouteHttpAsync(CancellationToken ct)
    {
        var sniffed = await SniffHttpAsync(ct).ConfigureAwait(false);
        if (sniffed == Sniffed.Http2)
        {
            await new Http2.Http2Proxy(_fromClient, _toClient, _port, _service, _logger, _clientEndPoint, _destination).RunAsync(ct).ConfigureAwait(false);
            return;
        }

        if (sniffed == Sniffed.Other)
        {
            await PassThroughAsync(null, ct).ConfigureAwait(false);
            return;
        }

        try
        {
            await ExchangeAllAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            await ForgetSessionStreamAsync().ConfigureAwait(false);
            if (_original is { } original)
            {
                // Its last exchange ended cleanly: another pod connection may use it.
                _original = null;
                await _port.Original.ReturnAsync(original).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The connection for an unmatched request: the one this connection's previous request used, unless the app closed
    /// it while it sat idle for a while (checked only then: a busy connection costs no poll), else one from the pool.
    /// </summary>
    private async Task<UpstreamConnection> OriginalAsync(CancellationToken ct)
    {
        if (_original is { } kept)
        {
            _original = null;
            if (Environment.TickCount64 - _originalIdleSince < 1000 || kept.IsIdleAndOpen)
            {
                return kept;
            }

            await kept.DisposeAsync().ConfigureAwait(false);
        }

        return await _port.Original.RentAsync(_destination, ct).ConfigureAwait(false);
    }

    private MirrorCopy[] MirrorCopies(System.Collections.Immutable.ImmutableArray<Subscription> subscriptions, HttpRequestHead request)
    {
        List<MirrorCopy>? copies = null;
        foreach (var subscription in subscriptions)
        {
            if (subscription.Mode == IncomingMode.Mirror && subscription.Takes(request))
            {
                (copies ??= []).Add(MirrorCopy.Start(_service, subscription.Session, _port.Port, _clientEndPoint, _destination));
            }
        }

        return copies is null ? [] : [.. copies];
    }

    private async Task ExchangeAllAsync(CancellationToken ct)
    {
        while (true)
        {
            var (status, head) = await ReadRequestHeadAsync(ct).ConfigureAwait(false);
            if (status == HeadStatus.Incomplete)
            {
                return; // the client closed between requests
            }

            if (status == HeadStatus.Invalid)
            {
                // Not a request this parser would frame the same way as the app: the app gets the rest as it is.
                IncomingLog.NotHttp(_logger, _port.Port, _clientEndPoint, "a malformed request head");
                await PassThroughAsync(null, ct).ConfigureAwait(false);
                return;
            }

            if (!await ExchangeAsync(head!, ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private enum Sniffed
    {
        Http1,
        Http2,
        Other,
    }

    /// <summary>How the connection starts: an HTTP/1.x request line, the HTTP/2 preface, or anything else (silence included).</summary>
    private async Task<Sniffed> SniffHttpAsync(CancellationToken ct)
    {
        using var timer = new Timer(static reader => ((PipeReader)reader!).CancelPendingRead(), _fromClient, SniffTimeout, Timeout.InfiniteTimeSpan);
        while (true)
        {
            var result = await _fromClient.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            var start = buffer.Slice(0, Math.Min(buffer.Length, 16 * 1024)).ToArray();
            var sniffed = HttpHeadParser.SniffRequestLine(start);
            var preface = Http2.Http2Frames.ClientPreface;
            var maybeHttp2 = start.AsSpan().StartsWith(preface.AsSpan(0, Math.Min(start.Length, preface.Length)));
            var undecided = (sniffed == HeadStatus.Incomplete || (maybeHttp2 && start.Length < preface.Length)) && !result.IsCompleted && !result.IsCanceled;

            // Nothing is consumed: whoever gets the connection gets these bytes. Marking them examined only while
            // undecided makes the next read wait for more, and never once the start is known.
            _fromClient.AdvanceTo(buffer.Start, undecided ? buffer.End : buffer.Start);
            if (start.Length >= preface.Length && maybeHttp2)
            {
                return Sniffed.Http2;
            }

            if (!undecided)
            {
                if (sniffed != HeadStatus.Parsed && !(result.IsCompleted && start.Length == 0))
                {
                    IncomingLog.NotHttp(_logger, _port.Port, _clientEndPoint, result.IsCanceled ? "no request line within 2 s" : "bytes that are not an HTTP/1.x request line");
                }

                return sniffed == HeadStatus.Parsed ? Sniffed.Http1 : Sniffed.Other;
            }
        }
    }

    private async Task<(HeadStatus Status, HttpRequestHead? Head)> ReadRequestHeadAsync(CancellationToken ct)
    {
        while (true)
        {
            var result = await _fromClient.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = HttpHeadParser.TryParseRequest(buffer, out var head);
            if (status == HeadStatus.Parsed)
            {
                // Left unconsumed: the head's bytes are forwarded as they came, by the exchange.
                _fromClient.AdvanceTo(buffer.Start);
                return (status, head);
            }

            _fromClient.AdvanceTo(buffer.Start, buffer.End);
            if (status == HeadStatus.Invalid)
            {
                return (status, null);
            }

            if (result.IsCompleted)
            {
                return (buffer.IsEmpty ? HeadStatus.Incomplete : HeadStatus.Invalid, null);
            }
        }
    }

    /// <summary>Sends one request to whoever it belongs to and its response back; false when the connection is done.</summary>
    private async Task<bool> ExchangeAsync(HttpRequestHead request, CancellationToken ct)
    {
        var subscriptions = _port.Subscriptions.Routing;
        var copies = MirrorCopies(subscriptions, request);
        var copy = FanOut(copies);

        var stealer = PortSubscriptions.StealerOf(subscriptions, request)?.Session;
        var session = stealer is null ? null : await SessionStreamAsync(stealer, reuse: true, ct).ConfigureAwait(false);
        var fromSession = session is not null;
        var target = session ?? await OriginalAsync(ct).ConfigureAwait(false);
        var reusable = false;
        try
        {
            // The head, with the body when all of it came with it (a GET, a small POST): one write upstream.
            var buffered = (await _fromClient.ReadAsync(ct).ConfigureAwait(false)).Buffer;
            var whole = HttpBody.WholeMessage(buffered, request.Length, request.Body);
            var head = whole ?? buffered.Slice(0, request.Length);
            try
            {
                await HttpBody.WriteCoalescedAsync(target.Stream, head, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (fromSession && ex is IOException or ObjectDisposedException or Protocol.RemoteException)
            {
                // The stream kept from this connection's previous request broke meanwhile (the session was lost):
                // nothing of this request went anywhere yet, so it goes on a new stream, or to the original app.
                await ForgetSessionStreamAsync().ConfigureAwait(false);
                session = await SessionStreamAsync(stealer!, reuse: false, ct).ConfigureAwait(false);
                fromSession = session is not null;
                target = session ?? await OriginalAsync(ct).ConfigureAwait(false);
                await HttpBody.WriteCoalescedAsync(target.Stream, head, ct).ConfigureAwait(false);
            }

            copy?.Invoke(head);
            _fromClient.AdvanceTo(head.End);

            // The body goes up while the response comes down: a server may answer 100 Continue, or answer early.
            var body = whole is null ? HttpBody.CopyAsync(_fromClient, target.Stream, request.Body, copy, ct) : Task.FromResult(true);
            var response = await RelayResponseAsync(request, target, ct).ConfigureAwait(false);
            var bodyComplete = await body.ConfigureAwait(false);
            foreach (var mirror in copies)
            {
                mirror.Complete();
            }

            if (response is null)
            {
                return false;
            }

            if (response.Status == 101 && request.IsUpgrade)
            {
                // From here the connection speaks another protocol (WebSocket): bytes both ways, to the side that accepted it.
                await Splice.RunAsync(_fromClient, _client, _toClient, target, null, ct).ConfigureAwait(false);
                return false;
            }

            var goesOn = bodyComplete && request.KeepAlive && response.KeepAlive;
            reusable = goesOn;
            if (!goesOn)
            {
                _client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            }

            return goesOn;
        }
        finally
        {
            foreach (var mirror in copies)
            {
                mirror.Complete();
            }

            if (fromSession)
            {
                // The session's stream stays with this connection for its next matched request (the local app sees
                // one keep-alive connection per pod client connection), unless this exchange ended it.
                if (!reusable)
                {
                    await ForgetSessionStreamAsync().ConfigureAwait(false);
                }
            }
            else if (reusable)
            {
                _original = target;
                _originalIdleSince = Environment.TickCount64;
            }
            else
            {
                await target.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The stream to <paramref name="session"/> for this connection's matched requests: the one a previous request
    /// used when <paramref name="reuse"/>, else a new one; null when the session is gone.
    /// </summary>
    private async Task<UpstreamConnection?> SessionStreamAsync(IncomingSession session, bool reuse, CancellationToken ct)
    {
        if (reuse && _sessionStream is { } kept && kept.Session == session)
        {
            return kept.Stream;
        }

        await ForgetSessionStreamAsync().ConfigureAwait(false);
        if (await TryOpenAsync(session, IncomingMode.Steal, ct).ConfigureAwait(false) is not { } stream)
        {
            return null;
        }

        var connection = new UpstreamConnection(stream, null);
        _sessionStream = (session, connection);
        return connection;
    }

    private async ValueTask ForgetSessionStreamAsync()
    {
        if (_sessionStream is { } kept)
        {
            _sessionStream = null;
            await kept.Stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Copies the response (interim 1xx heads first) to the client; null when the other side broke off or was not HTTP.</summary>
    private async Task<HttpResponseHead?> RelayResponseAsync(HttpRequestHead request, UpstreamConnection target, CancellationToken ct)
    {
        var sent = false;
        while (true)
        {
            var result = await target.Reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = HttpHeadParser.TryParseResponse(buffer, request.Method, out var response);
            if (status == HeadStatus.Incomplete && !result.IsCompleted)
            {
                target.Reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            if (status != HeadStatus.Parsed)
            {
                target.Reader.AdvanceTo(buffer.End);
                if (!sent)
                {
                    await _toClient.WriteAsync(BadGateway, ct).ConfigureAwait(false);
                }

                IncomingLog.BadResponse(_logger, _port.Port, _clientEndPoint, result.IsCompleted ? "the connection closed before a response" : "a malformed response head");
                return null;
            }

            if (!response!.IsInterim && response.Status != 101 && HttpBody.WholeMessage(buffer, response.Length, response.Body) is { } whole)
            {
                // The usual small answer, all of it read already: to the client in one write (one packet, one syscall).
                await HttpBody.WriteCoalescedAsync(_toClient, whole, ct).ConfigureAwait(false);
                target.Reader.AdvanceTo(whole.End);
                return response;
            }

            var head = buffer.Slice(0, response.Length);
            await HttpBody.WriteAsync(_toClient, head, null, ct).ConfigureAwait(false);
            target.Reader.AdvanceTo(head.End);
            sent = true;
            if (response.IsInterim)
            {
                continue;
            }

            if (response.Status == 101)
            {
                return response;
            }

            return await HttpBody.CopyAsync(target.Reader, _toClient, response.Body, null, ct).ConfigureAwait(false) ? response : null;
        }
    }
}
