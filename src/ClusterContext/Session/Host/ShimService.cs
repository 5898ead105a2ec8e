using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ClusterContext.Hooks.FileSystem;
using ClusterContext.Hooks.Network;
using ClusterContext.Kube;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Session.Host;

/// <summary>
/// What the native shim (<c>libclusterctx.so</c>, preloaded into programs that are not .NET) asks of the session host,
/// answered with the host's own session with the agent. The shim stays small and blocking: after its hello (a JSON
/// line, as every connection's), each request is one text line and so is each reply, fields split by tabs.
/// <list type="bullet">
/// <item><c>P path</c> (or <c>W path</c>, opened for writing): <c>F local-copy</c>, <c>N</c> (not in the pod), <c>L</c> (this machine's).</item>
/// <item><c>R name</c>: <c>A address…</c>, or <c>L</c> (resolve it locally: the pod does not know it, or it is local).</item>
/// <item><c>C address port</c>: <c>T loopback-port</c> (connect there: joined to the connection the agent opened), <c>L</c>, or <c>E errno</c>.</item>
/// <item><c>S address port dual</c>, the program listens there: <c>OK</c> and what became of its pod port (subscribed, or why not), or <c>L</c> (incoming traffic is off).</item>
/// </list>
/// A process's subscriptions are made in a session with the agent of its own connection's, so they end when it exits.
/// The hello's reply is <c>OK</c> and the pod paths served from the pod, so the shim asks only of paths under them.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class ShimService : IDisposable
{
    private const int ConnectionRefused = 111;
    private const int HostUnreachable = 113;
    private const int TimedOut = 110;
    private const int ConnectionReset = 104;

    private readonly RemoteCalls _remote;
    private readonly RemoteFileCache _cache;
    private readonly PathRules _rules;
    private readonly RemoteDestinations _destinations;
    private readonly HostWriteBack _writeBack;
    private readonly HostWriteBack.Client _writer;
    private readonly bool _dns;
    private readonly Action<string> _warn;
    private readonly KubeAgent _kube;
    private readonly ClusterContextOptions _options;

    public ShimService(KubeAgent kube, AgentClient agent, ClusterContextOptions options, IReadOnlyList<MountEntry> mounts, HostWriteBack writeBack, Action<string> warn)
    {
        var (description, sessionEndPoints) = (kube.Description, kube.SessionEndPoints);
        _kube = kube;
        _options = options;
        _remote = new RemoteCalls(agent, options.Timeout, description);
        _cache = new RemoteFileCache(CacheFolder.Create(), _remote, warn);
        // Only the pod's paths are asked about: a program's own files are never named to the pod.
        _rules = new PathRules(options.Fs, mounts, [_cache.Root]);
        _destinations = new RemoteDestinations(options.Network.Outgoing, sessionEndPoints);
        _dns = options.Network.Dns;
        _writeBack = writeBack;
        _writer = new HostWriteBack.Client(_cache.Root);
        _warn = warn;
        Files = options.Fs.Mode != FileSystemMode.Local;
    }

    /// <summary>Whether pod paths are served at all (<c>fs.mode</c> is not <c>local</c>).</summary>
    public bool Files { get; }

    /// <summary>The reply to the hello: the roots of the pod's paths (none with <c>fs.mode: local</c>).</summary>
    public string Hello() => Files ? string.Join('\t', ["OK", .. _rules.RemoteRoots]) : "OK";

    /// <summary>The reply to one request line of <paramref name="connection"/>'s.</summary>
    public async Task<string> AnswerAsync(string line, Connection connection, CancellationToken cancellationToken)
    {
        var fields = line.Split('\t');
        try
        {
            return fields switch
            {
                ["P", var path] => await OffThePoolAsync(() => Path(path, write: false)).ConfigureAwait(false),
                ["W", var path] => await OffThePoolAsync(() => Path(path, write: true)).ConfigureAwait(false),
                ["R", var name] => await ResolveAsync(name, cancellationToken).ConfigureAwait(false),
                ["C", var address, var port] => await ConnectAsync(address, port, cancellationToken).ConfigureAwait(false),
                ["S", var address, var port, var dual] => await ListenAsync(connection, address, port, dual == "1", cancellationToken).ConfigureAwait(false),
                _ => "L",
            };
        }
        catch (IOException ex)
        {
            // The session with the agent is gone (the host replaces it): the program's work goes on locally meanwhile.
            _warn($"A program's request ({fields[0]} {(fields.Length > 1 ? fields[1] : "")}) is served locally: {ex.Message}");
            return "L";
        }
    }

    /// <summary>
    /// The file cache waits for the agent synchronously (it serves the hooks, which are): on a thread of its own, not
    /// one of the pool's, whose threads the agent's replies need (on a machine of few cores, a pool thread waiting
    /// there holds up the very reply it waits for).
    /// </summary>
    private static Task<string> OffThePoolAsync(Func<string> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private string Path(string path, bool write)
    {
        if (!Files || !path.StartsWith('/'))
        {
            return "L";
        }

        var full = System.IO.Path.GetFullPath(path);
        switch (_rules.Classify(full))
        {
            case PathDisposition.NotFound:
                return "N";
            case PathDisposition.Local:
                return "L";
            case PathDisposition.RemoteReadWrite when write:
                var copy = _cache.Materialize(full);
                if (copy == _cache.MissingPath(full))
                {
                    copy = _cache.PrepareLocalCreate(full);
                }

                _cache.MarkWritten(full, reachPod: false);
                _writeBack.Watch(_writer, full);
                return "F\t" + copy;
            case PathDisposition.RemoteRead when write:
                // Read mode: the pod's file is not written; the program writes a copy of its own here.
                var local = _cache.Materialize(full);
                if (local == _cache.MissingPath(full))
                {
                    local = _cache.PrepareLocalCreate(full);
                }

                _cache.MarkWritten(full, reachPod: false);
                return "F\t" + local;
            default:
                var materialized = _cache.Materialize(full);
                return materialized == _cache.MissingPath(full) ? "N" : "F\t" + materialized;
        }
    }

    private async Task<string> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        if (!_dns || name.Length == 0 || string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(name, out _))
        {
            return "L";
        }

        try
        {
            var agent = _remote.Agent;
            var answer = await agent.ResolveAsync(name, AddressFamilyFilter.Any, cancellationToken).ConfigureAwait(false);
            if (answer.Addresses.Count == 0)
            {
                return "L";
            }

            _destinations.Learn(name, answer.Addresses);
            var reply = new StringBuilder("A");
            foreach (var address in answer.Addresses)
            {
                reply.Append('\t').Append(address.ToString());
            }

            return reply.ToString();
        }
        catch (RemoteException ex) when (ex.Code is ErrorCode.NameNotFound or ErrorCode.NameResolutionFailed or ErrorCode.InvalidArgument)
        {
            return "L";
        }
    }

    private async Task<string> ConnectAsync(string address, string port, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(address, out var ip) || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is <= 0 or > 65535)
        {
            return "L";
        }

        var destination = new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, number);
        if (!_destinations.IsRemote(destination, ProtocolType.Tcp))
        {
            return "L";
        }

        RemoteTcpConnection tunnel;
        try
        {
            tunnel = await _remote.Agent.ConnectTcpAsync(destination.Address.ToString(), number, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteException ex)
        {
            return "E\t" + (ex.Code switch
            {
                ErrorCode.ConnectionRefused => ConnectionRefused,
                ErrorCode.TimedOut => TimedOut,
                ErrorCode.ConnectionReset => ConnectionReset,
                _ => HostUnreachable,
            }).ToString(CultureInfo.InvariantCulture);
        }

        var listener = TunnelListener.Start(tunnel, AddressFamily.InterNetwork);
        return "T\t" + listener.Port.ToString(CultureInfo.InvariantCulture);
    }

    private async Task<string> ListenAsync(Connection connection, string address, string port, bool dualMode, CancellationToken cancellationToken)
    {
        if (_options.Network.Incoming.Mode == IncomingTrafficMode.Off || !IPAddress.TryParse(address, out var ip)
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is <= 0 or > 65535)
        {
            return "L";
        }

        Incoming.IncomingSubscriptions incoming;
        try
        {
            incoming = await connection.IncomingAsync(this, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KubeApiException or RemoteException or TimeoutException)
        {
            return $"OK\tIncoming traffic of port {number} does not reach this program: {ex.Message.ReplaceLineEndings(" ")}";
        }

        await OffThePoolAsync(() =>
        {
            incoming.OnListen(new IPEndPoint(ip, number), dualMode);
            return "";
        }).ConfigureAwait(false);
        var messages = connection.TakeMessages();
        foreach (var (podPort, localPort) in incoming.Subscribed)
        {
            if (localPort == number)
            {
                var mode = _options.Network.Incoming.Mode == IncomingTrafficMode.Mirror ? "a copy of" : "";
                messages = $"Incoming traffic: {mode}{(mode.Length > 0 ? " " : "")}pod port {podPort}'s connections reach port {number} here. {messages}".TrimEnd();
            }
        }

        return messages.Length == 0 ? "OK" : "OK\t" + messages.ReplaceLineEndings(" ");
    }

    public void Dispose()
    {
        _remote.Close();
        _cache.Dispose();
    }

    /// <summary>One process's connection: its incoming subscriptions, in a session with the agent of their own.</summary>
    internal sealed class Connection : IAsyncDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _messages = new();
        private Task<(AgentClient Agent, RemoteCalls Remote, Incoming.IncomingSubscriptions Subscriptions)>? _incoming;

        public async Task<Incoming.IncomingSubscriptions> IncomingAsync(ShimService service, CancellationToken cancellationToken)
        {
            _incoming ??= OpenAsync(service, cancellationToken);
            return (await _incoming.ConfigureAwait(false)).Subscriptions;
        }

        private async Task<(AgentClient, RemoteCalls, Incoming.IncomingSubscriptions)> OpenAsync(ShimService service, CancellationToken cancellationToken)
        {
            var agent = await service._kube.ConnectAsync("ClusterContext native shim", null, cancellationToken).ConfigureAwait(false);
            var remote = new RemoteCalls(agent, service._options.Timeout, service._kube.Description);
            var target = service._kube.Target;
            var subscriptions = new Incoming.IncomingSubscriptions(service._options.Network.Incoming, target.ContainerPorts ?? [], target.Container, remote,
                _messages.Enqueue, _messages.Enqueue);
            subscriptions.Serve(agent);
            return (agent, remote, subscriptions);
        }

        /// <summary>What the subscriptions said since the last call, for the program's stderr.</summary>
        public string TakeMessages()
        {
            var messages = new List<string>();
            while (_messages.TryDequeue(out var message))
            {
                messages.Add(message);
            }

            return string.Join(" ", messages);
        }

        public async ValueTask DisposeAsync()
        {
            if (_incoming is { IsCompletedSuccessfully: true } opened)
            {
                var (agent, remote, _) = opened.Result;
                remote.Close();
                try
                {
                    await agent.DisposeAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // That session is gone already, and its subscriptions with it.
                }
            }
        }
    }
}
