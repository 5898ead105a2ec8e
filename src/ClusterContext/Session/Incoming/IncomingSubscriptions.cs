using System.Net;
using System.Net.Sockets;
using ClusterContext.Configuration;
using ClusterContext.Hooks;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Session.Incoming;

/// <summary>
/// The pod ports this session receives: subscribed when the app starts listening on the mapped local port (before its
/// Listen returns, so traffic arrives from the moment the app says it listens), made again after a lost session is
/// restored, ended when a connection finds every listening socket of the port closed. Each connection the agent hands
/// over is joined to a fresh connection to the app's local listener.
/// </summary>
internal sealed class IncomingSubscriptions
{
    private readonly Lock _gate = new();
    private readonly IncomingMode _mode;
    private readonly HttpFilter? _filter;
    private readonly IncomingPortMap _map;
    private readonly RemoteCalls _remote;
    private readonly Action<string> _warn;
    private readonly Action<string> _info;
    private readonly Dictionary<int, Listener> _byLocal = [];
    private readonly Dictionary<int, int> _podToLocal = [];
    private readonly HashSet<int> _listening = [];

    public IncomingSubscriptions(IncomingSettings settings, IReadOnlyList<int> containerPorts, string container, RemoteCalls remote, Action<string> warn, Action<string> info)
    {
        _mode = settings.Mode == IncomingTrafficMode.Mirror ? IncomingMode.Mirror : IncomingMode.Steal;
        _filter = HttpFilterConversion.ToProtocol(settings.HttpFilter);
        _map = new IncomingPortMap(settings, containerPorts, container);
        _remote = remote;
        _warn = warn;
        _info = info;
        remote.Reconnected += Resubscribe;
    }

    /// <summary>Pod port → local port of the subscriptions in place.</summary>
    public IReadOnlyDictionary<int, int> Subscribed
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<int, int>(_podToLocal);
            }
        }
    }

    /// <summary>Makes the agent the handler of the current session's incoming requests.</summary>
    public void Serve(AgentClient agent) => agent.IncomingHandler = HandleAsync;

    /// <summary>The app's <paramref name="socket"/> now listens: subscribe its port's pod port, once per port.</summary>
    public void OnListen(Socket socket)
    {
        if (socket.LocalEndPoint is IPEndPoint local)
        {
            Listen(local, listener => listener.Add(socket));
        }
    }

    /// <summary>
    /// A program of another process (one the native shim is in) now listens on <paramref name="local"/>: subscribe as
    /// for a socket of this process's. Its subscription ends with this session, or when a connection finds it gone.
    /// </summary>
    public void OnListen(IPEndPoint local, bool dualMode) => Listen(local, listener => listener.Add(local, dualMode));

    private void Listen(IPEndPoint local, Action<Listener> add)
    {
        IncomingPortMap.Decision decision;
        Listener listener;
        lock (_gate)
        {
            if (_byLocal.TryGetValue(local.Port, out var known))
            {
                add(known);
                return;
            }

            decision = _map.Decide(local.Port, _listening.Where(p => p != local.Port).ToList(), _podToLocal);
            _listening.Add(local.Port);
            if (decision.PodPort is not { } podPort)
            {
                _info($"Incoming traffic: the app listens on port {local.Port}; not subscribed because {decision.Skipped}.");
                return;
            }

            listener = new Listener(local, podPort);
            add(listener);
            _byLocal[local.Port] = listener;
            _podToLocal[podPort] = local.Port;
        }

        if (decision.Notice is { } notice)
        {
            _warn(notice);
        }

        Subscribe(listener);
    }

    private void Subscribe(Listener listener)
    {
        try
        {
            var response = _remote.Run(ct => _remote.Agent.SubscribeAsync(listener.PodPort, _mode, _filter, ct), $"Subscribing to pod port {listener.PodPort}");
            if (response.Notice.Length > 0)
            {
                _warn($"Incoming traffic of pod port {listener.PodPort}: {response.Notice}");
            }
        }
        catch (RemoteException ex)
        {
            // Refused (another session's filter, no redirect possible): the app's own Listen succeeded and it serves
            // locally; the pod's traffic is what it does not get. The port is left out, so a later Listen on it tries again.
            Forget(listener);
            _warn($"Incoming traffic of pod port {listener.PodPort} does not reach local port {listener.Local.Port}: {ex.Message}");
        }
        catch (IOException ex)
        {
            // The session is lost or slow: the subscription is made again when it is restored.
            _warn($"Incoming traffic of pod port {listener.PodPort} does not reach local port {listener.Local.Port} yet: {ex.Message} Subscribing again when the session is restored.");
        }
    }

    private void Resubscribe()
    {
        List<Listener> listeners;
        lock (_gate)
        {
            listeners = [.. _byLocal.Values];
        }

        // Off the reconnecting thread: a subscription waits for the agent like any other operation.
        _ = Task.Run(() =>
        {
            foreach (var listener in listeners)
            {
                Subscribe(listener);
            }
        });
    }

    private void Forget(Listener listener)
    {
        lock (_gate)
        {
            if (_byLocal.TryGetValue(listener.Local.Port, out var current) && current == listener)
            {
                _byLocal.Remove(listener.Local.Port);
                _podToLocal.Remove(listener.PodPort);
                _listening.Remove(listener.Local.Port);
            }
        }
    }

    /// <summary>Serves one of the agent's requests: an incoming connection is joined to a new connection to the app.</summary>
    internal async Task HandleAsync(IncomingRequest request)
    {
        if (request.Message is not IncomingConnectionRequest incoming)
        {
            throw new RemoteException(ErrorCode.UnknownRequest, $"This session serves no {request.Message.Kind} requests.");
        }

        Listener? listener;
        lock (_gate)
        {
            listener = _podToLocal.TryGetValue(incoming.Port, out var localPort) ? _byLocal[localPort] : null;
        }

        if (listener is null)
        {
            throw new RemoteException(ErrorCode.NotFound, $"This session has no subscription to pod port {incoming.Port}.");
        }

        var target = listener.ConnectTarget;
        var app = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (HookBypass.Enter())
            {
                await app.ConnectAsync(target, request.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (SocketException ex)
        {
            app.Dispose();
            if (listener.AllClosed)
            {
                // The app closed its listener: the subscription ends, and the agent serves this one from the pod's app.
                Forget(listener);
                _ = Task.Run(() => Unsubscribe(listener.PodPort));
            }

            throw new RemoteException(ErrorCode.ConnectionRefused, $"The local app does not accept connections on {target} ({ex.SocketErrorCode}).");
        }

        MuxStream stream;
        try
        {
            stream = request.CreateStream();
            request.Respond(new IncomingConnectionResponse());
            Diagnostics.ClusterContextTelemetry.Incoming(incoming.Mode);
        }
        catch
        {
            app.Dispose();
            throw;
        }

        _ = SpliceAsync(app, stream);
    }

    private void Unsubscribe(int podPort)
    {
        try
        {
            _remote.Run(async ct =>
            {
                await _remote.Agent.UnsubscribeAsync(podPort, ct).ConfigureAwait(false);
                return true;
            }, $"Unsubscribing from pod port {podPort}");
        }
        catch (IOException ex)
        {
            _warn($"Incoming traffic: ending the subscription to pod port {podPort} failed: {ex.Message} It ends with the session.");
        }
    }

    private static async Task SpliceAsync(Socket app, MuxStream stream)
    {
        await using (stream.ConfigureAwait(false))
        using (app)
        {
            await Hooks.Network.SocketSplice.RunAsync(app, stream).ConfigureAwait(false);
        }
    }

    /// <summary>A local port the app listens on (on one or more sockets) and the pod port it receives.</summary>
    private sealed class Listener(IPEndPoint local, int podPort)
    {
        private readonly List<WeakReference<Socket>> _sockets = [];

        public IPEndPoint Local { get; } = local;

        public int PodPort { get; } = podPort;

        /// <summary>Where a connection reaches the app: the loopback of the listener's family for a wildcard or loopback bind, else its address.</summary>
        public IPEndPoint ConnectTarget { get; private set; } = Target(local, dualMode: false);

        public bool AllClosed
        {
            get
            {
                lock (_sockets)
                {
                    return _sockets.All(w => !w.TryGetTarget(out var s) || s.SafeHandle.IsClosed);
                }
            }
        }

        public void Add(Socket socket)
        {
            lock (_sockets)
            {
                // An IPv4 listener beside an IPv6 one (Kestrel's localhost) is reached over IPv4, which every stack has.
                if (_sockets.Count == 0 || socket.AddressFamily == AddressFamily.InterNetwork)
                {
                    ConnectTarget = Target((IPEndPoint)socket.LocalEndPoint!, socket.AddressFamily == AddressFamily.InterNetworkV6 && socket.DualMode);
                }

                _sockets.Add(new WeakReference<Socket>(socket));
            }
        }

        /// <summary>A listener of another process's, known by its address alone.</summary>
        public void Add(IPEndPoint bound, bool dualMode)
        {
            lock (_sockets)
            {
                if (_sockets.Count == 0 || bound.AddressFamily == AddressFamily.InterNetwork)
                {
                    ConnectTarget = Target(bound, bound.AddressFamily == AddressFamily.InterNetworkV6 && dualMode);
                }
            }
        }

        private static IPEndPoint Target(IPEndPoint bound, bool dualMode)
        {
            var address = bound.Address;
            if (address.Equals(IPAddress.Any) || (dualMode && address.Equals(IPAddress.IPv6Any)))
            {
                address = IPAddress.Loopback;
            }
            else if (address.Equals(IPAddress.IPv6Any))
            {
                address = IPAddress.IPv6Loopback;
            }
            else if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            return new IPEndPoint(address, bound.Port);
        }
    }
}
