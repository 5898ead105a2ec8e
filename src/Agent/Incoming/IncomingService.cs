using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// The agent's incoming traffic: which sessions subscribed to which pod ports, a listener per subscribed port, and
/// the redirect in front of it. Nothing of it exists until the first subscription (the redirector included); the last
/// subscription of a port gone, its redirect goes at once and its listener a little later (<see cref="RetireGrace"/>),
/// so that connections the redirect sent it before it went are still accepted, and finish with the original app.
/// </summary>
/// <remarks>
/// HTTP is parsed by <see cref="Http.HttpHeadParser"/> rather than by Kestrel with Yarp's IHttpForwarder: the two
/// would bring the ASP.NET Core shared framework into the agent, several megabytes of a Native AOT image whose goal
/// is 16 MB in all, and Kestrel would own the accepted sockets, while routing needs the raw connection first (to
/// sniff non-HTTP and HTTP/2, to pass it on untouched, to splice upgrades). Routing needs only the head and the
/// body's framing; bytes are forwarded unchanged.
/// </remarks>
internal sealed class IncomingService(Func<IPortRedirector>? redirectorFactory, ILoggerFactory loggerFactory) : IDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("ClusterContext.Agent.Incoming");
    private readonly Lock _gate = new();
    private readonly Dictionary<ushort, PortEntry> _ports = [];
    private readonly HashSet<PortListener> _retiring = [];
    private int _serving;
    private long _lastAccepted;
    private IPortRedirector? _redirector;
    private bool _redirectorMissingLogged;
    private long _droppedCopies;

    /// <summary>Holds steals back for a moment after this agent takes over the pod's lead (<see cref="Coordination.TakeoverHold"/>).</summary>
    public Coordination.TakeoverHold Hold { get; } = new();

    /// <summary>
    /// How long a port's listener outlives its redirect. A connection the redirect sent it may still be in its accept
    /// queue, or (its first SYN dropped by a full queue) come back with the SYN's retransmit a second later, then
    /// after two more: conntrack keeps such a connection on the listener, and a closed listener would reset it.
    /// </summary>
    internal static readonly TimeSpan RetireGrace = TimeSpan.FromSeconds(3.5);

    /// <summary>At the agent's end, the longest it waits for the pod's connections it serves to finish with the original app.</summary>
    internal static readonly TimeSpan ExitDrain = TimeSpan.FromSeconds(3);

    /// <summary>Mirrored copies dropped so far, because a session was slow or gone.</summary>
    public long DroppedCopies => Interlocked.Read(ref _droppedCopies);

    /// <param name="rank">The claim's precedence (<see cref="Subscription.Rank"/>); now when not given.</param>
    public SubscribeResponse Subscribe(IncomingSession session, SubscribeRequest request, long? rank = null)
    {
        if (request.Port == 0)
        {
            throw new RemoteException(ErrorCode.InvalidArgument, "Port 0 cannot be subscribed.");
        }

        var subscription = new Subscription(session, request.Mode, request.Filter is null ? null : RequestFilter.Compile(request.Filter), rank ?? System.Diagnostics.Stopwatch.GetTimestamp());
        lock (_gate)
        {
            var created = false;
            if (!_ports.TryGetValue(request.Port, out var entry))
            {
                entry = Open(request.Port);
                created = true;
            }

            string notice;
            try
            {
                notice = entry.Subscriptions.Add(subscription);
            }
            catch when (created)
            {
                Close(entry);
                throw;
            }

            _ports[request.Port] = entry;
            IncomingLog.Subscribed(_logger, request.Port, request.Mode, session.ToString(), request.Filter is null ? "whole port" : "HTTP filter", entry.ListenerPort);
            if (notice.Length > 0)
            {
                IncomingLog.Overlap(_logger, request.Port, notice);
            }

            return new SubscribeResponse(notice);
        }
    }

    public void Unsubscribe(IncomingSession session, ushort port)
    {
        lock (_gate)
        {
            if (_ports.TryGetValue(port, out var entry) && entry.Subscriptions.Remove(session))
            {
                IncomingLog.Unsubscribed(_logger, port, session.ToString());
                CloseIfUnused(entry);
            }
        }
    }

    /// <summary>A session ended (or was lost): its subscriptions end; requests its filters matched go to the original app.</summary>
    public void EndSession(IncomingSession session)
    {
        lock (_gate)
        {
            foreach (var entry in _ports.Values.ToArray())
            {
                if (entry.Subscriptions.Remove(session))
                {
                    IncomingLog.Unsubscribed(_logger, entry.Port, session.ToString());
                    CloseIfUnused(entry);
                }
            }
        }
    }

    internal void CopyDropped(string reason)
    {
        var total = Interlocked.Increment(ref _droppedCopies);
        IncomingLog.CopyDropped(_logger, reason, total);
    }

    private PortEntry Open(ushort port)
    {
        var listener = PortListener.Create();
        var entry = new PortEntry(port, listener, new OriginalApp(port, _logger), Hold);
        try
        {
            Redirector()?.Redirect(port, listener.Port);
        }
        catch (Exception ex) when (ex is not RemoteException)
        {
            listener.Dispose();
            throw new RemoteException(ErrorCode.Internal, $"Cannot redirect pod port {port} to the agent: {ex.Message}");
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        listener.Start((socket, ct) => ServeAsync(socket, entry, ct));
        return entry;
    }

    private async Task ServeAsync(Socket socket, PortEntry entry, CancellationToken ct)
    {
        Interlocked.Increment(ref _serving);
        Volatile.Write(ref _lastAccepted, Environment.TickCount64);
        try
        {
            PodConnection connection;
            try
            {
                connection = new PodConnection(socket, entry, this, _logger);
            }
            catch (SocketException)
            {
                socket.Dispose(); // reset between the accept and now: nothing to serve
                return;
            }

            await using (connection.ConfigureAwait(false))
            {
                await connection.RunAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _serving);
        }
    }

    private void CloseIfUnused(PortEntry entry)
    {
        if (entry.Subscriptions.IsEmpty)
        {
            _ports.Remove(entry.Port);
            Close(entry);
        }
    }

    private void Close(PortEntry entry)
    {
        try
        {
            _redirector?.Remove(entry.Port);
        }
        finally
        {
            _retiring.Add(entry.Listener);
            _ = RetireAsync(entry.Listener);
            IncomingLog.PortClosed(_logger, entry.Port);
        }
    }

    /// <summary>Closes a listener whose redirect is gone once what the redirect sent it has had time to arrive.</summary>
    private async Task RetireAsync(PortListener listener)
    {
        await Task.Delay(RetireGrace).ConfigureAwait(false);
        lock (_gate)
        {
            if (!_retiring.Remove(listener))
            {
                return; // the agent's end closed it
            }
        }

        listener.Dispose();
    }

    /// <summary>The redirector, made on first use: an agent that never serves incoming traffic never touches netfilter.</summary>
    private IPortRedirector? Redirector()
    {
        if (_redirector is null && redirectorFactory is not null)
        {
            _redirector = redirectorFactory();
        }
        else if (redirectorFactory is null && !_redirectorMissingLogged)
        {
            _redirectorMissingLogged = true;
            IncomingLog.NoRedirector(_logger);
        }

        return _redirector;
    }

    /// <summary>
    /// The agent's end: every redirect goes first, so the pod's new connections reach its app; the connections already
    /// sent here are still accepted and served, for up to <see cref="ExitDrain"/>, before the table and the listeners
    /// close.
    /// </summary>
    public void Dispose()
    {
        List<PortListener> listeners;
        lock (_gate)
        {
            listeners = [.. _ports.Values.Select(e => e.Listener), .. _retiring];
            foreach (var port in _ports.Keys)
            {
                try
                {
                    _redirector?.Remove(port);
                }
                catch (Redirect.PortRedirectException)
                {
                    // The table goes with the redirector below all the same.
                }
            }

            _ports.Clear();
            _retiring.Clear();
        }

        if (listeners.Count > 0)
        {
            // Done once nothing is being served and nothing was accepted for a moment; a kill -9 skips all of this,
            // and the kernel's rules go with the process (see the redirector).
            var deadline = Environment.TickCount64 + (long)ExitDrain.TotalMilliseconds;
            while (Environment.TickCount64 < deadline
                   && (Volatile.Read(ref _serving) > 0 || Environment.TickCount64 - Volatile.Read(ref _lastAccepted) < 100))
            {
                Thread.Sleep(10);
            }
        }

        // The table last: connections its redirects sent here are translated only while it is there.
        _redirector?.Dispose();
        foreach (var listener in listeners)
        {
            listener.Dispose();
        }
    }
}
