using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Agent.Incoming.Http2.Hpack;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>
/// Serves one pod client's HTTP/2 connection (prior knowledge) stream by stream: the agent ends the client's HTTP/2
/// connection and routes each stream on its own, by the same filters as HTTP/1.1 requests. Unmatched streams share
/// one HTTP/2 connection to the pod's original app; the streams one session steals share one connection to that
/// session's local app (an incoming stream of the session, which the session joins to a connection of its own to
/// the app); each mirroring session gets copies on a connection of its own.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its token source is cancelled from other threads at any time, and is never linked or timed: there is nothing to free.")]
internal sealed class Http2Proxy
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Http2Connection _client;
    private readonly PortEntry _port;
    private readonly IncomingService _service;
    private readonly ILogger _logger;
    private readonly IPEndPoint _clientEndPoint;
    private readonly IPEndPoint _destination;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<(IncomingSession?, IncomingMode), Task<Http2Connection?>> _upstreams = [];
    private readonly List<Task<Http2Connection?>> _opened = [];
    private readonly List<Http2Exchange> _exchanges = [];

    public Http2Proxy(PipeReader fromClient, Stream toClient, PortEntry port, IncomingService service, ILogger logger, IPEndPoint clientEndPoint, IPEndPoint destination)
    {
        _port = port;
        _service = service;
        _logger = logger;
        _clientEndPoint = clientEndPoint;
        _destination = destination;
        _client = new Http2Connection($"client {clientEndPoint}", toClient, fromClient, isServer: true, logger) { AcceptStream = Accept };
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        Http2Log.Accepted(_logger, _port.Port, _clientEndPoint);
        try
        {
            await _client.StartAsync(linked.Token).ConfigureAwait(false);
            await _client.RunAsync(linked.Token).ConfigureAwait(false);

            // The client's streams are lost with its connection; their pumps wind down (and reset their upstream streams).
            // Mirrored copies still on their way (a session connection still opening) get the same time to arrive.
            Task[] running;
            lock (_gate)
            {
                running = [.. _exchanges.SelectMany(e => e.CopyCompletions.Prepend(e.Completion))];
            }

            await Task.WhenAll(running).WaitAsync(DrainTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await CloseUpstreamsAsync().ConfigureAwait(false);
        }
    }

    private IHttp2StreamSink? Accept(Http2Stream stream, List<HeaderField> fields)
    {
        if (ToRequestHead(fields) is not { } request)
        {
            return null;
        }

        var subscriptions = _port.Subscriptions.Routing;
        var stealer = PortSubscriptions.StealerOf(subscriptions, request);
        var target = stealer is null ? Upstream(null, IncomingMode.Steal) : StolenAsync(stealer.Session);
        var copies = subscriptions.Where(s => s.Mode == IncomingMode.Mirror && s.Takes(request))
            .Select(s => new Http2MirrorCopy(Upstream(s.Session, IncomingMode.Mirror), _service.CopyDropped)).ToArray();
        Http2Log.Routed(_logger, _port.Port, stream.Id, request.Method, request.Target, stealer?.Session.ToString() ?? "the original app");
        var exchange = new Http2Exchange(_client, stream, target, copies, reason => Http2Log.BadGateway(_logger, _port.Port, stream.Id, reason));
        lock (_gate)
        {
            _exchanges.RemoveAll(e => e.Completion.IsCompleted && e.CopyCompletions.All(c => c.IsCompleted));
            _exchanges.Add(exchange);
        }

        return exchange.ClientSide;
    }

    /// <summary>The stealing session's connection; a session that is gone leaves the stream to the original app, as for HTTP/1.1.</summary>
    private async Task<Http2Connection?> StolenAsync(IncomingSession session) =>
        await Upstream(session, IncomingMode.Steal).ConfigureAwait(false) ?? await Upstream(null, IncomingMode.Steal).ConfigureAwait(false);

    /// <summary>The open connection to the original app (no session) or to a session's app, made on first use and again after it closed.</summary>
    private Task<Http2Connection?> Upstream(IncomingSession? session, IncomingMode mode)
    {
        lock (_gate)
        {
            if (_upstreams.TryGetValue((session, mode), out var known) && (!known.IsCompleted || known.Result is { IsOpen: true }))
            {
                return known;
            }

            var connecting = ConnectAsync(session, mode);
            _upstreams[(session, mode)] = connecting;
            _opened.Add(connecting);
            return connecting;
        }
    }

    private async Task<Http2Connection?> ConnectAsync(IncomingSession? session, IncomingMode mode)
    {
        var ct = _stopping.Token;
        Stream transport;
        string name;
        try
        {
            if (session is null)
            {
                var socket = await _port.Original.ConnectAsync(_destination, ct).ConfigureAwait(false);
                transport = new NetworkStream(socket, ownsSocket: true);
                name = $"the app on port {_port.Port}";
            }
            else
            {
                transport = await session.OpenAsync(_port.Port, mode, _clientEndPoint, _destination, ct).ConfigureAwait(false);
                name = session.ToString();
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or RemoteException or ObjectDisposedException or OperationCanceledException)
        {
            if (session is not null)
            {
                IncomingLog.SessionUnavailable(_logger, _port.Port, session.ToString(), ex.Message);
            }
            else
            {
                IncomingLog.ConnectionFailed(_logger, _port.Port, _clientEndPoint, $"the app cannot be reached: {ex.Message}");
            }

            return null;
        }

        var reader = PipeReader.Create(transport, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        var connection = new Http2Connection(name, transport, reader, isServer: false, _logger, async () =>
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            await transport.DisposeAsync().ConfigureAwait(false);
        });
        try
        {
            await connection.StartAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (Http2Exchange.IsStreamFailure(ex))
        {
            await connection.CloseAsync().ConfigureAwait(false);
            return null;
        }

        _ = RunUpstreamAsync(connection);
        return connection;
    }

    private async Task RunUpstreamAsync(Http2Connection connection)
    {
        await connection.RunAsync(_stopping.Token).ConfigureAwait(false);
        await connection.CloseAsync().ConfigureAwait(false);
    }

    private async Task CloseUpstreamsAsync()
    {
        Task<Http2Connection?>[] opened;
        lock (_gate)
        {
            opened = [.. _opened];
        }

        foreach (var task in opened)
        {
            if (task.IsCompletedSuccessfully && task.Result is { } connection)
            {
                await connection.GoAwayAsync(Http2ErrorCode.NoError).ConfigureAwait(false);
                await connection.CloseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The request as the filters see it: <c>:method</c>, <c>:path</c>, and the regular fields, with <c>:authority</c>
    /// as <c>host</c> (what an HTTP/1.1 request carries); null without the pseudo-fields every request has.
    /// </summary>
    internal static HttpRequestHead? ToRequestHead(List<HeaderField> fields)
    {
        string? method = null, path = null, authority = null;
        var headers = new List<KeyValuePair<string, string>>(fields.Count);
        foreach (var field in fields)
        {
            switch (field.Name)
            {
                case ":method":
                    method = field.Value;
                    break;
                case ":path":
                    path = field.Value;
                    break;
                case ":authority":
                    authority = field.Value;
                    break;
                default:
                    if (!field.Name.StartsWith(':'))
                    {
                        headers.Add(new(field.Name, field.Value));
                    }

                    break;
            }
        }

        if (authority is not null && !headers.Exists(h => h.Key == "host"))
        {
            headers.Insert(0, new("host", authority));
        }

        // CONNECT carries no path (RFC 9113 section 8.5): it is routed by its authority and headers.
        if (method is null || (path is null && method != "CONNECT"))
        {
            return null;
        }

        return new HttpRequestHead(method, path ?? authority ?? "", 1, headers, 0, BodyFraming.Empty);
    }
}
