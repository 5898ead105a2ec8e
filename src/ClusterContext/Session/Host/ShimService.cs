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
    private readonly FileSystemMode _mode;
    private readonly List<string> _patterns;
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
        _mode = options.Fs.Mode;
        _patterns = [.. options.Fs.ReadOnly, .. options.Fs.ReadWrite, .. options.Fs.NotFound];
    }

    /// <summary>
    /// The settings of the program at <paramref name="pid"/> (a peer of the host's socket, checked to be this user's),
    /// loaded as the hook would load them in it: from its working directory's clustercontext.json (or the file
    /// <c>CLUSTERCONTEXT_CONFIG</c> names) and its <c>CLUSTERCONTEXT_*</c> variables, as it was started; the session's
    /// own (target, namespace, context, agent) are the host's. A key that names them, and how to load them.
    /// </summary>
    public static (string Key, Func<ClusterContextOptions> Load) SettingsOf(int pid, ClusterContextOptions host)
    {
        var environment = new System.Collections.Hashtable(StringComparer.Ordinal);
        foreach (var entry in File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && entry.StartsWith("CLUSTERCONTEXT_", StringComparison.Ordinal))
            {
                environment[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        var directory = new DirectoryInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cwd").ResolveLinkTarget(returnFinalTarget: false)?.FullName ?? "/";
        var file = environment[Configuration.ConfigurationLoader.ConfigVariable] as string ?? Path.Combine(directory, Configuration.ConfigurationLoader.FileName);
        var key = new StringBuilder(File.Exists(file) ? $"{file}@{File.GetLastWriteTimeUtc(file).Ticks}" : "-");
        foreach (var name in environment.Keys.Cast<string>().Order(StringComparer.Ordinal))
        {
            key.Append('\n').Append(name).Append('=').Append(environment[name]);
        }

        // Loaded only for settings not served yet: every process of a script has the same.
        return (key.ToString(), () =>
        {
            var settings = Configuration.ConfigurationLoader.Load(directory, environment);
            (settings.Target, settings.Namespace, settings.Context, settings.Timeout) = (host.Target, host.Namespace, host.Context, host.Timeout);
            return settings;
        });
    }

    /// <summary>Whether pod paths are served at all (<c>fs.mode</c> is not <c>local</c>).</summary>
    public bool Files { get; }

    /// <summary>
    /// The reply to the hello: what the shim asks about. The roots of the pod's paths (none with <c>fs.mode: local</c>),
    /// and, marked <c>~</c>, the literal start of each <c>readOnly</c>, <c>readWrite</c> and <c>notFound</c> pattern
    /// (<c>~/</c>, every path, for one that does not start with a literal path).
    /// </summary>
    public string Hello()
    {
        if (!Files)
        {
            return "OK";
        }

        var fields = new List<string> { "OK" };
        fields.AddRange(_mode == FileSystemMode.LocalWithOverrides ? [] : _rules.RemoteRoots);
        foreach (var pattern in _patterns)
        {
            fields.Add("~" + LiteralStart(pattern));
        }

        return string.Join('\t', fields.Distinct(StringComparer.Ordinal));
    }

    /// <summary>The path every match of an anchored pattern starts with (<c>^/tmp/app-</c>: <c>/tmp/app-</c>), else <c>/</c>.</summary>
    internal static string LiteralStart(string pattern)
    {
        if (!pattern.StartsWith("^/", StringComparison.Ordinal) || pattern.Contains('|', StringComparison.Ordinal))
        {
            return "/"; // no literal start, or alternatives each with their own
        }

        var literal = new StringBuilder();
        for (var i = 1; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length && !char.IsLetterOrDigit(pattern[i + 1]))
            {
                literal.Append(pattern[++i]);
            }
            else if (".$^{[(|)*+?\\".Contains(c, StringComparison.Ordinal))
            {
                // A quantifier makes the character before it optional or repeated: it is not part of every match.
                if (c is '*' or '?' or '{' && literal.Length > 1)
                {
                    literal.Length--;
                }

                break;
            }
            else
            {
                literal.Append(c);
            }
        }

        return literal.Length == 0 ? "/" : literal.ToString();
    }

    /// <summary>
    /// The reply to one request line of <paramref name="connection"/>'s. It blocks: a process's requests come one at a
    /// time, each connection is served on a thread of its own, and the file cache waits for the agent synchronously
    /// (it serves the hooks, which are) — on a pool thread that wait could hold up the very reply it waits for.
    /// </summary>
    public string Answer(string line, Connection connection, CancellationToken cancellationToken)
    {
        var fields = line.Split('\t');
        try
        {
            return fields switch
            {
                ["P", var path] => Place(path, write: false),
                ["W", var path] => Place(path, write: true),
                ["R", var name] => ResolveAsync(name, cancellationToken).GetAwaiter().GetResult(),
                ["C", var address, var port] => ConnectAsync(address, port, cancellationToken).GetAwaiter().GetResult(),
                ["S", var address, var port, var dual] => Listen(connection, address, port, dual == "1", cancellationToken),
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

    private string Place(string path, bool write)
    {
        if (!Files || !path.StartsWith('/'))
        {
            return "L";
        }

        var full = Path.GetFullPath(path);
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

    private string Listen(Connection connection, string address, string port, bool dualMode, CancellationToken cancellationToken)
    {
        if (_options.Network.Incoming.Mode == IncomingTrafficMode.Off || !IPAddress.TryParse(address, out var ip)
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is <= 0 or > 65535)
        {
            return "L";
        }

        Incoming.IncomingSubscriptions incoming;
        try
        {
            incoming = connection.IncomingAsync(this, cancellationToken).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is KubeApiException or RemoteException or TimeoutException)
        {
            return $"OK\tIncoming traffic of port {number} does not reach this program: {ex.Message.ReplaceLineEndings(" ")}";
        }

        incoming.OnListen(new IPEndPoint(ip, number), dualMode);
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
