using System.Net;
using ClusterContext.Configuration;
using ClusterContext.Diagnostics;
using ClusterContext.Hooks.FileSystem;
using ClusterContext.Hooks.Network;
using ClusterContext.Patching;
using ClusterContext.Protocol;
using ClusterContext.Session;
using ClusterContext.Session.Incoming;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext;

/// <summary>
/// This process running in the context of a pod: the pod's environment applied, its files, DNS and outgoing
/// connections served through the agent. One per process; starting again joins the running session.
/// </summary>
public sealed class ClusterContextSession : IAsyncDisposable
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static ClusterContextSession? s_current;
    private static int s_reserved;

    private readonly RemoteCalls? _remote;
    private readonly RemoteFileCache? _cache;
    private readonly Session.Host.SessionHostClient? _host;
    private readonly ILogger _logger;

    private ClusterContextSession(ClusterContextOptions options, RemoteCalls? remote, RemoteFileCache? cache, IReadOnlyDictionary<string, string> environment, ILogger logger, Kube.ResolvedTarget? target = null, Session.Host.SessionHostClient? host = null)
    {
        Options = options;
        _remote = remote;
        _cache = cache;
        _host = host;
        ImportedEnvironment = environment;
        _logger = logger;
        Target = target;
        if (remote is not null)
        {
            remote.Lost += _ => StateChanged?.Invoke();
            remote.Reconnected += () => StateChanged?.Invoke();
        }
    }

    /// <summary>The pod and container the session runs in; null for a session straight to an agent address, or when running locally.</summary>
    internal Kube.ResolvedTarget? Target { get; }

    /// <summary>The session with the agent is lost and not (yet) restored.</summary>
    internal bool IsLost => _remote?.IsLost ?? false;

    /// <summary>Raised when the session is lost and when it is restored (on a background thread).</summary>
    internal event Action? StateChanged;

    /// <summary>The running session, if any.</summary>
    public static ClusterContextSession? Current => Volatile.Read(ref s_current);

    /// <summary>The options the session was started with.</summary>
    public ClusterContextOptions Options { get; }

    /// <summary>false when the cluster was unreachable and <see cref="ClusterContextOptions.Required"/> was false: everything runs locally.</summary>
    public bool IsConnected => _remote is not null;

    /// <summary>The variables taken from the pod.</summary>
    public IReadOnlyDictionary<string, string> ImportedEnvironment { get; }

    /// <summary>Options from <c>clustercontext.json</c> and <c>CLUSTERCONTEXT_*</c> variables, as the startup hook reads them.</summary>
    public static ClusterContextOptions LoadOptions() =>
        ConfigurationLoader.Load(Environment.CurrentDirectory, Environment.GetEnvironmentVariables());

    /// <summary>
    /// Puts the engine between the runtime and the JIT and keeps the BCL choke points from being inlined into code
    /// compiled from now on; the earlier in the process, the better (the startup hook does it first of all).
    /// </summary>
    internal static void ReserveChokePoints()
    {
        // Once per process: the startup hook reserves before anything else, and its session start comes here again.
        if (Volatile.Read(ref s_reserved) == 0)
        {
            IEnumerable<System.Reflection.MethodBase> chokePoints;
            try
            {
                chokePoints = Hooks.BclChokePoints.All.Values;
            }
            catch (TypeInitializationException ex)
            {
                throw new PatchException($"This runtime ({System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}) lacks a BCL method ClusterContext patches ({ex.InnerException?.Message}); run the app on .NET 10. Nothing was patched.", ex);
            }

            MethodPatcher.Shared.Reserve(chokePoints);
            Volatile.Write(ref s_reserved, 1);
        }
    }

    /// <summary>Starts (or joins) the session and blocks until the pod's context is in place.</summary>
    public static ClusterContextSession Start(ClusterContextOptions options, ILoggerFactory? loggerFactory = null) =>
        StartAsync(options, loggerFactory).GetAwaiter().GetResult();

    /// <summary>
    /// <see cref="Start"/> from the startup hook, before the app's <c>Main</c>: no app has set up a listener of traces
    /// yet, so the start is not traced, and the telemetry (its event source, meter and counters) is set up on the
    /// thread pool, off the start's path.
    /// </summary>
    internal static ClusterContextSession StartBeforeMain(ClusterContextOptions options, ILoggerFactory loggerFactory) =>
        StartAsync(options, loggerFactory, beforeMain: true, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Starts (or joins) the session: connects to the agent, applies the environment, installs the hooks.</summary>
    public static Task<ClusterContextSession> StartAsync(ClusterContextOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        StartAsync(options, loggerFactory, beforeMain: false, cancellationToken);

    private static async Task<ClusterContextSession> StartAsync(ClusterContextOptions options, ILoggerFactory? loggerFactory, bool beforeMain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ReserveChokePoints();
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (s_current is { } running)
            {
                return running;
            }

            var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ClusterContext");
            if (!beforeMain)
            {
                ClusterContextTelemetry.EnsureEventSource();
            }

            using var activity = beforeMain ? null : ClusterContextTelemetry.ActivitySource.StartActivity("clustercontext session.start");
            activity?.SetTag("clustercontext.target", options.Target ?? options.Agent.Address);
            ClusterContextSession session;
            try
            {
                session = await ConnectAsync(options, loggerFactory, logger, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Message);
                throw;
            }

            activity?.SetTag("clustercontext.connected", session.IsConnected);
            if (beforeMain)
            {
                var connected = session.IsConnected;
                ThreadPool.UnsafeQueueUserWorkItem(_ =>
                {
                    ClusterContextTelemetry.EnsureEventSource();
                    if (connected)
                    {
                        ClusterContextTelemetry.SessionStarted();
                    }
                }, null);
            }
            else if (session.IsConnected)
            {
                ClusterContextTelemetry.SessionStarted();
            }

            Volatile.Write(ref s_current, session);
            Hosting.SessionHandoff.Publish(session);
            return session;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<ClusterContextSession> ConnectAsync(ClusterContextOptions options, ILoggerFactory? loggerFactory, ILogger logger, CancellationToken cancellationToken)
    {
        if (options.Agent.Address is null && options.Target is null && options.Session.Name is null)
        {
            throw new ConfigurationException("Nothing to connect to: set target (e.g. \"deployment/orders\") or agent.address (host:port of a running agent) in clustercontext.json, or CLUSTERCONTEXT_TARGET / CLUSTERCONTEXT_AGENT_ADDRESS.");
        }

        // The same way in at the start and again when a session is lost: a new agent through the API, or the agent address.
        // Incoming connections the agent hands over are served from the first moment of every session, a restored one too.
        IncomingSubscriptions? incoming = null;

        // Processes of one developer context share a session host (one agent, one port-forward): this one joins it,
        // or starts it. The host is started with the machine's environment as it is now, before the pod's is applied.
        var host = options.Agent.Address is null ? Session.Host.SessionHostClient.For(options, Environment.GetEnvironmentVariables(), logger) : null;

        // This machine's half of the start, while the network's goes on: the folder of this process's copies (and the
        // sweep of what dead processes left), and the hooks' patches, in place but passing every call on to the original
        // until the session is known (a patch's first install is the costliest part of the start).
        var cacheRoot = Task.Run(RemoteFileCache.CreateRoot, cancellationToken);
        var patched = Task.Run(() =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            Patch(options);
            if (Diagnostics.StartupTrace.Enabled)
            {
                Diagnostics.StartupTrace.Mark(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"choke-point patches in place (one install on a pool thread, {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms, while the session starts)"));
            }
        }, CancellationToken.None);
        async Task<(AgentClient Agent, string Address, IReadOnlyList<IPEndPoint> SessionEndPoints, Kube.ResolvedTarget? Target)> OpenAsync(CancellationToken ct)
        {
            var opened = await OpenCoreAsync(ct).ConfigureAwait(false);
            incoming?.Serve(opened.Agent);
            return opened;
        }

        async Task<(AgentClient Agent, string Address, IReadOnlyList<IPEndPoint> SessionEndPoints, Kube.ResolvedTarget? Target)> OpenCoreAsync(CancellationToken ct)
        {
            if (host is not null)
            {
                return await host.OpenAsync(loggerFactory, ct).ConfigureAwait(false);
            }

            if (options.Agent.Address is not { } direct)
            {
                return await KubeConnector.ConnectAsync(options, loggerFactory, logger, ct).ConfigureAwait(false);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.Timeout);
            var agentEndPoint = await ResolveAsync(direct).ConfigureAwait(false);
            return (await AgentClient.ConnectAsync(agentEndPoint, options.Agent.Token ?? string.Empty,
                $"ClusterContext {AppDomain.CurrentDomain.FriendlyName}", loggerFactory: loggerFactory, cancellationToken: timeout.Token).ConfigureAwait(false), direct, [agentEndPoint], null);
        }

        // A lost session is opened again in the background. Trying an agent address again costs a refused connection:
        // every operation may; each try through the API adds a container to the pod: one every 5 s at most.
        // Through a host, a retry costs a local connection (the host keeps to the 5 s itself).
        var retryAfter = host is not null ? TimeSpan.FromSeconds(1) : options.Agent.Address is null ? TimeSpan.FromSeconds(5) : TimeSpan.Zero;
        async Task<AgentClient> ReconnectAsync(CancellationToken ct) => (await OpenAsync(ct).ConfigureAwait(false)).Agent;
        void Report(string message) => SessionLog.Reconnect(logger, message);

        RemoteCalls remote;
        string address;
        IReadOnlyList<IPEndPoint> sessionEndPoints;
        Kube.ResolvedTarget? target;
        int targetPid;
        IReadOnlyDictionary<string, string> environment;
        IReadOnlyList<Protocol.Messages.MountEntry> mounts;
        // Set once the hooks are in (or the start failed): a session opened in the background serves incoming from then.
        TaskCompletionSource? hooksInstalled = null;
        try
        {
            var joined = host is null ? null : host.TryJoinRunning() ?? await host.JoinAsync(cancellationToken).ConfigureAwait(false);
            if (joined is { PodEnvironment: { } hostEnvironment, Mounts: { } hostMounts })
            {
                // The host has what the agent reported of the container: the process's own session with the agent opens
                // once the hooks are in, as the app's Main runs; its first remote operation waits for it.
                hooksInstalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                address = $"{joined.Description}, session host {joined.HostPid}";
                (sessionEndPoints, target, targetPid) = (joined.SessionEndPoints, joined.Target, joined.TargetPid);
                remote = new RemoteCalls(OpenInBackgroundAsync(hooksInstalled.Task), options.Timeout, address, ReconnectAsync, Report, retryAfter);
                environment = EnvironmentImport.Apply(options.Env, hostEnvironment);
                mounts = hostMounts;
                Diagnostics.StartupTrace.Mark("pod environment and mounts received from the session host");
            }
            else
            {
                (var agent, address, sessionEndPoints, target) = await OpenAsync(cancellationToken).ConfigureAwait(false);
                Diagnostics.StartupTrace.Mark(host is not null ? "agent session open (through the session host)" : "agent session open");
                targetPid = agent.Agent.TargetPid;
                remote = new RemoteCalls(agent, options.Timeout, address, ReconnectAsync, Report, retryAfter);
                try
                {
                    var podEnvironment = agent.GetEnvironmentAsync(cancellationToken);
                    var podMounts = agent.GetMountsAsync(cancellationToken);
                    environment = EnvironmentImport.Apply(options.Env, await podEnvironment.ConfigureAwait(false));
                    mounts = await podMounts.ConfigureAwait(false);
                    Diagnostics.StartupTrace.Mark("pod environment and mounts received");
                }
                catch
                {
                    // A session that did not get going leaves no connection behind.
                    DropCacheRoot();
                    remote.Close();
                    await agent.DisposeAsync().ConfigureAwait(false);
                    host?.Dispose();
                    throw;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException
            && options.Agent.Address is { } direct)
        {
            var reason = ex is SessionLostException { InnerException: System.Net.Sockets.SocketException socket } ? socket.Message : ex.Message.TrimEnd('.');
            return Unavailable($"Cannot reach the ClusterContext agent at {direct} ({reason}). Check that the agent is running and listening there, that this machine can reach it, and that agent.token matches.", ex);
        }
        catch (Exception ex) when (ex is Kube.KubeConfigException or Kube.KubeApiException or Kube.TargetResolutionException or IOException or System.Net.Sockets.SocketException)
        {
            host?.Dispose();
            return Unavailable($"Cannot run in the context of {options.Target ?? $"session '{options.Session.Name}'"}: {ex.Message}", ex);
        }

        async Task<AgentClient> OpenInBackgroundAsync(Task hooksIn)
        {
            // Once the hooks are in, as the app's Main begins: on a machine of few cores, a session opened meanwhile
            // would take its time from the start's own work, which the app waits for.
            await hooksIn.ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(options.Timeout);
            var opened = await OpenCoreAsync(timeout.Token).ConfigureAwait(false);
            incoming?.Serve(opened.Agent);
            return opened.Agent;
        }

        // A start that did not get as far as the cache leaves no folder behind.
        void DropCacheRoot() => _ = cacheRoot.ContinueWith(t => RemoteFileCache.DeleteRoot(t.Result), CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

        ClusterContextSession Unavailable(string message, Exception ex)
        {
            DropCacheRoot();
            DropPatches(patched);
            if (options.Required)
            {
                throw new ClusterContextUnavailableException(message, ex);
            }

            SessionLog.RunningLocally(logger, message);
            return new ClusterContextSession(options, null, null, new Dictionary<string, string>(), logger);
        }

        try
        {
            // Waited for on this thread, not awaited: the start has nothing else to do meanwhile, and a start that
            // never yields is one that hands nothing over to another thread (and compiles no asynchronous machinery
            // for it before the app's Main).
            patched.GetAwaiter().GetResult();
            var root = cacheRoot.GetAwaiter().GetResult();
            var cache = new RemoteFileCache(root, remote, message => SessionLog.WriteRefused(logger, message), host);
            var rules = new PathRules(options.Fs, mounts, LocalRoots(cache.Root));
            var destinations = new RemoteDestinations(options.Network.Outgoing, sessionEndPoints);

            var patcher = MethodPatcher.Shared;
            if (options.Fs.Mode != FileSystemMode.Local)
            {
                FileHooks.Install(patcher, rules, cache);
            }

            if (options.Network.Dns)
            {
                DnsHooks.Install(patcher, remote, destinations);
            }

            ConnectHooks.Install(patcher, remote, destinations);
            ReceiveFromHooks.Install(patcher);
            if (options.Network.Incoming.Mode != IncomingTrafficMode.Off)
            {
                incoming = new IncomingSubscriptions(options.Network.Incoming, target?.ContainerPorts ?? [], target?.Container ?? "(unknown)", remote,
                    message => SessionLog.Incoming(logger, message), message => SessionLog.Progress(logger, message));
                if (remote.CurrentAgent is { } agent)
                {
                    incoming.Serve(agent);
                }

                ListenHooks.Install(patcher, incoming);
            }

            if (host is not null && Session.Host.NativeShim.BesideHook is { } shim)
            {
                // The programs this app starts (a shell script, curl, python3) run in the pod's context through the host too.
                foreach (var (name, value) in Session.Host.NativeShim.Variables(shim, host.Files.Socket, Environment.GetEnvironmentVariable("LD_PRELOAD")))
                {
                    Environment.SetEnvironmentVariable(name, value);
                }
            }

            Diagnostics.StartupTrace.Mark("hooks installed");
            SessionLog.Started(logger, address, targetPid, environment.Count, string.Join(", ", rules.RemoteRoots));
            return new ClusterContextSession(options, remote, cache, environment, logger, target, host);
        }
        catch
        {
            remote.Close();
            DropPatches(patched);
            throw;
        }
        finally
        {
            hooksInstalled?.TrySetResult();
        }
    }

    /// <summary>The patches the session's hooks need, each passing calls on to the original until its hook is installed.</summary>
    private static void Patch(ClusterContextOptions options)
    {
        // All of them in one install: its waits (for compilations under way, for threads to be clear of the targets'
        // first instructions) are made once.
        var patcher = MethodPatcher.Shared;
        var sets = new List<PatchSet>(5);
        void Add(PatchSet? set)
        {
            if (set is not null)
            {
                sets.Add(set);
            }
        }

        if (options.Fs.Mode != FileSystemMode.Local)
        {
            Add(FileHooks.Patches(patcher));
        }

        if (options.Network.Dns)
        {
            Add(DnsHooks.Patches(patcher));
        }

        Add(ConnectHooks.Patches(patcher));
        Add(ReceiveFromHooks.Patches(patcher));
        if (options.Network.Incoming.Mode != IncomingTrafficMode.Off)
        {
            Add(ListenHooks.Patches(patcher));
        }

        if (sets.Count > 0)
        {
            patcher.Patch(sets);
        }
    }

    /// <summary>A start that did not get going leaves no patch behind (once those being made are in place).</summary>
    private static void DropPatches(Task patching)
    {
        try
        {
            patching.Wait();
        }
        catch (AggregateException)
        {
            // What failed to patch is not in place; what was is removed below.
        }

        UninstallHooks();
    }

    private static void UninstallHooks()
    {
        var patcher = MethodPatcher.Shared;
        FileHooks.Uninstall(patcher);
        DnsHooks.Uninstall(patcher);
        ConnectHooks.Uninstall(patcher);
        ReceiveFromHooks.Uninstall(patcher);
        ListenHooks.Uninstall(patcher);
    }

    private static async Task<IPEndPoint> ResolveAsync(string address)
    {
        if (IPEndPoint.TryParse(address, out var endPoint) && endPoint.Port != 0)
        {
            return endPoint;
        }

        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address[(colon + 1)..], out var port))
        {
            throw new ConfigurationException($"agent.address '{address}' is not host:port.");
        }

        var addresses = await Dns.GetHostAddressesAsync(address[..colon]).ConfigureAwait(false);
        return new IPEndPoint(addresses[0], port);
    }

    private static IEnumerable<string> LocalRoots(string cacheRoot) =>
    [
        AppContext.BaseDirectory,
        Hosting.ToolingProcess.DotnetRoot,
        Path.GetTempPath(),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
        Environment.CurrentDirectory,
        cacheRoot,
    ];

    /// <summary>Removes the hooks and ends the session; the environment stays as it is.</summary>
    public async ValueTask DisposeAsync()
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            try
            {
                // Writes meant for the pod are sent before the session ends.
                _cache?.FlushWrites();
            }
            catch (IOException)
            {
            }

            UninstallHooks();
            if (_remote is not null)
            {
                _remote.Close();
                try
                {
                    if (_remote.CurrentAgent is { } agent)
                    {
                        await agent.DisposeAsync().ConfigureAwait(false);
                    }
                }
                catch (IOException)
                {
                    // The transport broke while saying goodbye (the agent or the port-forward went first); the session is over either way.
                }
            }

            _cache?.Dispose();
            _host?.Dispose();
            Hosting.SessionHandoff.Withdraw(this);
            if (Interlocked.CompareExchange(ref s_current, null, this) == this && IsConnected)
            {
                ClusterContextTelemetry.SessionEnded();
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
