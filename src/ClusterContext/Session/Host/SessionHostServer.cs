using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ClusterContext.Kube;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Session.Host;

/// <summary>
/// The session host: one process per developer context that owns the agent in the pod and reaches it through the API
/// server, and that every process of that context joins over a Unix socket only the user can open. A process's
/// connection is its own session with the agent (a port-forward of its own, spliced to the socket), so the process
/// speaks the agent's protocol as it would without the host, and what it holds there (incoming subscriptions) ends
/// with it. A process also keeps a control connection, over which the host learns which copies it writes (sent to
/// the pod when closed, see <see cref="HostWriteBack"/>) and when it is gone. The host leaves <c>linger</c> after its
/// last process, and its agent with it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed partial class SessionHostServer : IDisposable
{
    /// <summary>How soon a failed start of the agent may be tried again (each try adds a container to the pod).</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>How long a new host waits for its first process.</summary>
    private static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(15);

    private readonly ClusterContextOptions _options;
    private readonly SessionHostFiles _files;
    private readonly TimeSpan? _linger;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<string> _progress = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly HostWriteBack _writeBack;
    private event Action<string>? Progressed;
    private Task<HostedAgent>? _agent;
    private long _failedAt;
    private int _connections;
    private CancellationTokenSource? _lingering;
    private Socket? _listener;
    private readonly Dictionary<string, ShimService> _shims = new(StringComparer.Ordinal);
    private HostedAgent? _shimAgent;

    public SessionHostServer(ClusterContextOptions options, SessionHostFiles files, TimeSpan? linger, ILogger logger)
    {
        _options = options;
        _files = files;
        _linger = linger;
        _logger = logger;
        _writeBack = new HostWriteBack(async ct => (await EnsureAgentAsync().WaitAsync(ct).ConfigureAwait(false)).Own, options.Timeout, m => HostLog.Warning(_logger, m));
    }

    /// <summary>Serves until the linger after the last process passes; the exit code of the host process.</summary>
    /// <summary>Starts the agent before <see cref="RunAsync"/> listens: the process that started the host needs it at once.</summary>
    public void StartAgent() => _ = EnsureAgentAsync();

    public async Task<int> RunAsync(Socket listener)
    {
        _listener = listener;
        _ = EnsureAgentAsync();

        // The process that started the host connects within moments; should it not (killed meanwhile), the host leaves.
        StartLinger(_linger is { } linger && linger < FirstWait ? FirstWait : _linger);
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                Socket connection;
                try
                {
                    connection = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                _ = Task.Run(() => ServeAsync(connection));
            }
        }
        finally
        {
            await ShutdownAsync().ConfigureAwait(false);
        }

        return 0;
    }

    private async Task ServeAsync(Socket connection)
    {
        Enter();
        try
        {
            // The folder is the user's own (0700) and the socket 0600; the peer's user is checked all the same.
            if (HostInterop.PeerCredentials(connection) is not { } peer || peer.Uid != Patching.Internal.LibC.GetEffectiveUserId())
            {
                return;
            }

            using var hello = await HostLines.ReadAsync(connection, _stopping.Token).ConfigureAwait(false);
            switch (hello?.RootElement.String("kind"))
            {
                case "control":
                    await ServeControlAsync(connection, peer.Pid).ConfigureAwait(false);
                    break;
                case "agent":
                    await ServeAgentAsync(connection).ConfigureAwait(false);
                    break;
                case "shim":
                    await ServeShimAsync(connection, peer.Pid).ConfigureAwait(false);
                    break;
                case "stop":
                    await HostLines.WriteAsync(connection, w => w.WriteBoolean("stopping", true), _stopping.Token).ConfigureAwait(false);
                    await _stopping.CancelAsync().ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // That process went away; the others are not affected.
        }
        finally
        {
            connection.Dispose();
            Leave();
        }
    }

    /// <summary>A process's control connection: the session's description, then which copies it writes, for its whole life.</summary>
    private async Task ServeControlAsync(Socket connection, int pid)
    {
        var startTime = Hooks.FileSystem.CacheFolder.StartTime(pid);
        // Progress lines go out one after the other, from a queue: the agent's start reports them from its own flow.
        var lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        void Report(string message) => lines.Writer.TryWrite(message);
        async Task PumpAsync()
        {
            await foreach (var line in lines.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await HostLines.WriteAsync(connection, w => w.WriteString("progress", line), _stopping.Token).ConfigureAwait(false);
            }
        }

        lock (_gate)
        {
            // A process that comes while the agent is starting sees what happened so far; once it runs, nothing.
            if (_agent is { IsCompleted: false })
            {
                foreach (var line in _progress)
                {
                    lines.Writer.TryWrite(line);
                }
            }

            Progressed += Report;
        }

        var pump = PumpAsync();
        HostedAgent agent;
        try
        {
            agent = await EnsureAgentAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KubeConfigException or KubeApiException or TargetResolutionException or IOException or TimeoutException or OperationCanceledException or Protocol.RemoteException)
        {
            await EndProgressAsync().ConfigureAwait(false);
            await HostLines.WriteAsync(connection, w => w.WriteString("error", ex.Message), _stopping.Token).ConfigureAwait(false);
            return;
        }

        async Task EndProgressAsync()
        {
            lock (_gate)
            {
                Progressed -= Report;
            }

            lines.Writer.TryComplete();
            await pump.ConfigureAwait(false);
        }

        await EndProgressAsync().ConfigureAwait(false);
        await HostLines.WriteAsync(connection, Describe(agent, joining: true).Write, _stopping.Token).ConfigureAwait(false);
        HostWriteBack.Client? client = null;
        try
        {
            while (await HostLines.ReadAsync(connection, _stopping.Token).ConfigureAwait(false) is { } message)
            {
                using (message)
                {
                    var root = message.RootElement;
                    if (root.String("cache") is { } cache)
                    {
                        client = new HostWriteBack.Client(cache);
                    }
                    else if (root.String("watch") is { } remotePath && client is not null)
                    {
                        _writeBack.Watch(client, remotePath, root.TryGetProperty("again", out _));
                    }
                    else if (root.TryGetProperty("flush", out _) && client is not null)
                    {
                        await _writeBack.FlushAsync(client).ConfigureAwait(false);
                    }

                    await HostLines.WriteAsync(connection, w => w.WriteBoolean("done", true), _stopping.Token).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (client is not null)
            {
                // What the process wrote reaches the pod; then its copies go, if the process is gone (a SIGKILL, a crash).
                await _writeBack.ForgetAsync(client).ConfigureAwait(false);
                await RemoveCopiesOnceGoneAsync(client.Root, pid, startTime).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Removes a process's copies once it no longer runs. Its control connection closes as it dies, moments before it
    /// is gone (until its parent reaps it, it is a zombie); one that closed it and lives on removes its copies itself,
    /// or the next start's sweep does.
    /// </summary>
    private static async Task RemoveCopiesOnceGoneAsync(string root, int pid, string startTime)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Hooks.FileSystem.CacheFolder.IsRunning(pid, startTime))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                return;
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The session as a process learns it: for its control connection (<paramref name="joining"/>), with the container's environment and mounts.</summary>
    private static SessionInfo Describe(HostedAgent agent, bool joining) =>
        new(agent.Kube.Started.Token, agent.Kube.Description, agent.Kube.Target, agent.Kube.SessionEndPoints, Environment.ProcessId)
        {
            TargetPid = agent.Own.Agent.TargetPid,
            PodEnvironment = joining ? agent.Environment : null,
            Mounts = joining ? agent.Mounts : null,
            HostSteps = joining ? Diagnostics.StartupTrace.CollectedSteps() : [],
        };

    /// <summary>A session of a process's own with the agent: a new port-forward, spliced to the process's connection.</summary>
    private async Task ServeAgentAsync(Socket connection)
    {
        PortForwardStream stream;
        SessionInfo info;
        try
        {
            var agent = await EnsureAgentAsync().ConfigureAwait(false);
            stream = await agent.Kube.OpenStreamAsync(_stopping.Token).ConfigureAwait(false);
            info = Describe(agent, joining: false);
        }
        catch (Exception ex) when (ex is KubeConfigException or KubeApiException or TargetResolutionException or IOException or TimeoutException or Protocol.RemoteException)
        {
            await HostLines.WriteAsync(connection, w => w.WriteString("error", ex.Message), _stopping.Token).ConfigureAwait(false);
            return;
        }

        await using (stream.ConfigureAwait(false))
        {
            // The agent may be another than when the process joined (a new one after the last was lost): its token and pod.
            await HostLines.WriteAsync(connection, info.Write, _stopping.Token).ConfigureAwait(false);
            using var local = new NetworkStream(connection, ownsSocket: false);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var up = local.CopyToAsync(stream, 64 * 1024, done.Token);
            var down = stream.CopyToAsync(local, 64 * 1024, done.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            await done.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(up, down).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // One side ended; so does the other.
            }
        }
    }

    /// <summary>
    /// A connection of the native shim's, from a program that is not .NET: requests a line each (see
    /// <see cref="ShimService"/>), answered with the host's own session with the agent.
    /// </summary>
    private async Task ServeShimAsync(Socket connection, int pid)
    {
        ShimService shim;
        try
        {
            var (key, settings) = ShimService.SettingsOf(pid, _options);
            shim = Shim(await EnsureAgentAsync().ConfigureAwait(false), key, settings);
        }
        catch (Exception ex) when (ex is KubeConfigException or KubeApiException or TargetResolutionException or IOException or TimeoutException or Protocol.RemoteException or ConfigurationException or UnauthorizedAccessException)
        {
            await WriteLineAsync(connection, "E\t" + ex.Message.ReplaceLineEndings(" ")).ConfigureAwait(false);
            return;
        }

        await WriteLineAsync(connection, shim.Hello()).ConfigureAwait(false);
        // One request at a time, each answer blocking (see ShimService.Answer): on a thread of the connection's own.
        await Task.Factory.StartNew(() => ServeShimRequests(connection, shim), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .ConfigureAwait(false);
    }

    private void ServeShimRequests(Socket connection, ShimService shim)
    {
        using var stream = new NetworkStream(connection, ownsSocket: false);
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 4096, leaveOpen: true);
        // The process's subscriptions end with its connection: it exited.
        var state = new ShimService.Connection();
        try
        {
            while (reader.ReadLine() is { } request)
            {
                connection.Send(System.Text.Encoding.UTF8.GetBytes(shim.Answer(request, state, _stopping.Token) + "\n"));
            }
        }
        finally
        {
            state.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private async Task WriteLineAsync(Socket connection, string line)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(line + "\n");
        await connection.SendAsync(bytes, SocketFlags.None, _stopping.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// The shim's service for the settings <paramref name="key"/> names (its programs' own: which paths, names and
    /// destinations are the pod's), over the agent of the moment (new ones with a new agent).
    /// </summary>
    private ShimService Shim(HostedAgent agent, string key, Func<ClusterContextOptions> settings)
    {
        lock (_gate)
        {
            if (_shimAgent != agent)
            {
                foreach (var old in _shims.Values)
                {
                    old.Dispose();
                }

                _shims.Clear();
                _shimAgent = agent;
            }

            if (!_shims.TryGetValue(key, out var service))
            {
                service = new ShimService(agent.Kube, agent.Own, settings(), agent.Mounts, _writeBack, m => HostLog.Warning(_logger, m));
                _shims[key] = service;
            }

            return service;
        }
    }

    /// <summary>The agent in the pod with the host's own session to it (which keeps it there while processes come and go).</summary>
    private Task<HostedAgent> EnsureAgentAsync()
    {
        lock (_gate)
        {
            if (_agent is { } running && (!running.IsFaulted || System.Diagnostics.Stopwatch.GetElapsedTime(_failedAt) < RetryAfter))
            {
                return running;
            }

            _progress.Clear();
            _agent = StartAgentAsync();
            return _agent;
        }
    }

    private async Task<HostedAgent> StartAgentAsync()
    {
        await Task.Yield();
        var progress = new Progress(this);
        try
        {
            var kube = await KubeConnector.StartAsync(_options, progress, _stopping.Token).ConfigureAwait(false);
            AgentClient own;
            try
            {
                own = await kube.ConnectAsync("ClusterContext session host", null, _stopping.Token).ConfigureAwait(false);
            }
            catch
            {
                kube.Dispose();
                throw;
            }

            // What every process that joins imports before its Main: asked once per agent.
            IReadOnlyList<KeyValuePair<string, string>> environment;
            IReadOnlyList<Protocol.Messages.MountEntry> mounts;
            try
            {
                var podEnvironment = own.GetEnvironmentAsync(_stopping.Token);
                var podMounts = own.GetMountsAsync(_stopping.Token);
                environment = await podEnvironment.ConfigureAwait(false);
                mounts = await podMounts.ConfigureAwait(false);
                Diagnostics.StartupTrace.Mark("pod environment and mounts read from the agent");
            }
            catch
            {
                await own.DisposeAsync().ConfigureAwait(false);
                kube.Dispose();
                throw;
            }

            HostLog.Serving(_logger, Environment.ProcessId, kube.Description);
            _ = own.Completion.ContinueWith(_ => AgentLost(kube), TaskScheduler.Default);
            return new HostedAgent(kube, own, environment, mounts);
        }
        catch (Exception ex)
        {
            HostLog.Warning(_logger, $"Could not start the agent: {ex.Message}");
            lock (_gate)
            {
                _failedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            throw;
        }
    }

    /// <summary>The agent (or the way to it) is gone: the next process that needs it gets a new one; with no process, the host leaves.</summary>
    private void AgentLost(KubeAgent kube)
    {
        HostLog.AgentGone(_logger, kube.Description);
        lock (_gate)
        {
            if (_agent is { IsCompletedSuccessfully: true } current && current.Result.Kube == kube)
            {
                _agent = null;
            }

            if (_connections == 0 && !_stopping.IsCancellationRequested)
            {
                _stopping.Cancel();
            }
        }

        kube.Dispose();
    }

    private void Enter()
    {
        lock (_gate)
        {
            _connections++;
            _lingering?.Cancel();
            _lingering = null;
        }
    }

    private void Leave()
    {
        lock (_gate)
        {
            if (--_connections > 0)
            {
                return;
            }

            // A host whose agent could not be started does not stay: the next process starts another, and tries again.
            if (_agent is { IsFaulted: true })
            {
                _stopping.Cancel();
                return;
            }

            StartLinger();
        }
    }

    /// <summary>Starts the countdown to leaving (under the gate, or before serving).</summary>
    private void StartLinger() => StartLinger(_linger);

    private void StartLinger(TimeSpan? after)
    {
        if (after is not { } linger || _connections > 0)
        {
            return;
        }

        var lingering = new CancellationTokenSource();
        _lingering = lingering;
        _ = Task.Delay(linger, lingering.Token).ContinueWith(
            t =>
            {
                if (!t.IsCanceled)
                {
                    HostLog.Leaving(_logger, linger.TotalSeconds);
                    _stopping.Cancel();
                }
            },
            TaskScheduler.Default);
    }

    private async Task ShutdownAsync()
    {
        // No new process finds this host from here on; the next one starts another.
        TryDelete(_files.Socket);
        _listener?.Dispose();
        lock (_gate)
        {
            foreach (var shim in _shims.Values)
            {
                shim.Dispose(); // and the copies of the pod's files it made for programs
            }

            _shims.Clear();
        }

        Task<HostedAgent>? agent;
        lock (_gate)
        {
            agent = _agent;
        }

        if (agent is { IsCompletedSuccessfully: true })
        {
            var (kube, own, _, _) = agent.Result;
            try
            {
                await own.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
            }

            kube.Dispose();
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _writeBack.Dispose();
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void Report(string message)
    {
        Action<string>? progressed;
        lock (_gate)
        {
            _progress.Add(message);
            progressed = Progressed;
        }

        progressed?.Invoke(message);
    }

    /// <summary>The agent in the pod, the host's own session with it, and what it reported of the container.</summary>
    private sealed record HostedAgent(KubeAgent Kube, AgentClient Own, IReadOnlyList<KeyValuePair<string, string>> Environment, IReadOnlyList<Protocol.Messages.MountEntry> Mounts);

    private sealed class Progress(SessionHostServer server) : IProgress<string>
    {
        public void Report(string value) => server.Report(value);
    }

    /// <summary>The host's lock file content: who holds it and what it serves (read by <c>clusterctx session list</c>).</summary>
    /// <remarks>Written field by field: the serializer's first use (reflection over the values) would cost a new host tens of milliseconds.</remarks>
    internal static string LockText(SessionHostFiles files, ClusterContextOptions options, TimeSpan? linger)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            void Text(string name, string? value)
            {
                if (value is null)
                {
                    writer.WriteNull(name);
                }
                else
                {
                    writer.WriteString(name, value);
                }
            }

            writer.WriteStartObject();
            writer.WriteString("name", files.Name);
            writer.WriteNumber("pid", Environment.ProcessId);
            Text("startTime", Hooks.FileSystem.CacheFolder.StartTime(Environment.ProcessId));
            Text("target", options.Target);
            Text("namespace", options.Namespace);
            Text("context", options.Context);
            if (linger is { } seconds)
            {
                writer.WriteNumber("linger", seconds.TotalSeconds);
            }
            else
            {
                writer.WriteNull("linger");
            }

            writer.WriteString("started", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static partial class HostLog
    {
        [LoggerMessage(1, LogLevel.Information, "Session host {Pid} serves {Target}")]
        public static partial void Serving(ILogger logger, int pid, string target);

        [LoggerMessage(2, LogLevel.Information, "The agent of {Target} is gone")]
        public static partial void AgentGone(ILogger logger, string target);

        [LoggerMessage(3, LogLevel.Information, "No process for {Seconds} s: leaving")]
        public static partial void Leaving(ILogger logger, double seconds);

        [LoggerMessage(4, LogLevel.Warning, "{Message}")]
        public static partial void Warning(ILogger logger, string message);
    }
}
