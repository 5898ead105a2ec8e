using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Hooks;
using ClusterContext.Kube;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Session.Host;

/// <summary>
/// A process's way into its session host: finds the host of its developer context (or starts it, detached, from the
/// files beside the hook), keeps a control connection to it for the process's life, and opens the process's sessions
/// with the agent through it. A host that goes away is replaced by the next connection, which starts a new one.
/// </summary>
internal sealed class SessionHostClient : IDisposable
{
    /// <summary>The host's entry point, beside the hook.</summary>
    public const string HostAssembly = "ClusterContext.SessionHost.dll";

    /// <summary>The same host compiled ahead of time (linux-x64), beside the hook too: started in its place where it runs.</summary>
    public const string NativeHostExecutable = "clusterctx-session-host";

    /// <summary>Set once the native host could not run here (no loader for it, a C library too old): the managed one is started from then on.</summary>
    private static volatile bool s_nativeHostUnusable;

    /// <summary>How long a host just started may take to listen.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(15);

    private readonly ClusterContextOptions _options;
    private readonly IDictionary _environment;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _control = new(1, 1);
    private readonly HashSet<string> _watched = new(StringComparer.Ordinal);
    private Socket? _controlSocket;

    /// <summary>A named session with no target is one <c>clusterctx session start</c> made: this process cannot start its host.</summary>
    private bool CanStartHost => _options.Target is not null || _options.Session.Name is null;

    /// <summary>A host this process started on finding none (<see cref="TryJoinRunning"/>), not yet waited for.</summary>
    private Process? _earlyHost;

    /// <summary>The control connection as the start joined on it, until its first use makes it <see cref="_controlSocket"/>.</summary>
    private BlockingUnixSocket? _joined;
    private SessionInfo? _info;
    private string? _cacheRoot;

    private SessionHostClient(ClusterContextOptions options, IDictionary environment, SessionHostFiles files, ILogger logger)
    {
        _options = options;
        _environment = environment;
        Files = files;
        _logger = logger;
    }

    public SessionHostFiles Files { get; }

    /// <summary>A client for <paramref name="options"/>' session host; null when this process starts an agent of its own (no host here, or not wanted).</summary>
    public static SessionHostClient? For(ClusterContextOptions options, IDictionary environment, ILogger logger)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if ((options.Target is null && options.Session.Name is null) || options.Agent.Address is not null || !options.Session.Shared)
        {
            return null;
        }

        if (!File.Exists(HostPath))
        {
            SessionLog.Progress(logger, $"{HostPath} is missing beside the hook: this process starts an agent of its own");
            return null;
        }

        using var bypass = HookBypass.Enter();
        var folder = SessionHostPaths.Folder(environment);
        return new SessionHostClient(options, environment, SessionHostPaths.For(folder, SessionHostPaths.Name(options, environment)), logger);
    }

    /// <summary>
    /// The folder the host starts from: beside this assembly (the hook's folder), unless a program that carries a
    /// complete hook folder elsewhere names it (clusterctx, whose own folder lacks what its framework provides it).
    /// </summary>
    public static string? HostFolder { get; set; }

    private static string HostPath => Path.Combine(HostFolderPath, HostAssembly);

    private static string HostFolderPath => HostFolder ?? Path.GetDirectoryName(typeof(SessionHostClient).Assembly.Location)!;

    /// <summary>
    /// The native host when this process can start it: beside the hook, on x64, and executable (a package's files come
    /// out of it without their mode: it is set here, once). Null otherwise, for the managed host.
    /// </summary>
    private static string? NativeHostPath()
    {
        if (OperatingSystem.IsWindows() || s_nativeHostUnusable || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
        {
            return null;
        }

        var path = Path.Combine(HostFolderPath, NativeHostExecutable);
        try
        {
            var mode = File.GetUnixFileMode(path);
            const UnixFileMode Execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, mode | Execute);
            }

            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A session of this process's own with the agent, through the host (started if none runs).</summary>
    public async Task<(AgentClient Agent, string Description, IReadOnlyList<IPEndPoint> SessionEndPoints, ResolvedTarget Target)> OpenAsync(ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        using var bypass = HookBypass.Enter();
        var info = await EnsureControlAsync(cancellationToken).ConfigureAwait(false);
        var socket = await ConnectAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new IOException($"The session host of {_options.Target} ({Files.Socket}) went away; the next operation starts a new one.");
        try
        {
            await HostLines.WriteAsync(socket, w => w.WriteString("kind", "agent"), cancellationToken).ConfigureAwait(false);
            using (var reply = await HostLines.ReadAsync(socket, cancellationToken).ConfigureAwait(false))
            {
                if (reply?.RootElement.String("error") is { } error)
                {
                    throw new IOException(error);
                }

                // The agent of this moment: a new one (token, pod) if the host replaced a lost one.
                info = reply?.RootElement.TryGetProperty("ok", out var ok) == true ? SessionInfo.Read(ok)
                    : throw new IOException($"The session host of {_options.Target} closed the connection; the next operation starts a new one.");
            }

            Diagnostics.StartupTrace.Mark("port-forward to the agent spliced by the host");

            var agent = await AgentClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true), info.Token,
                $"ClusterContext {AppDomain.CurrentDomain.FriendlyName}", loggerFactory: loggerFactory, cancellationToken: cancellationToken).ConfigureAwait(false);
            return (agent, $"{info.Description}, session host {info.HostPid}", info.SessionEndPoints, info.Target);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Joins the host (starting it if none runs) and waits until its agent runs in the pod; what the host said of the session.</summary>
    public async Task<SessionInfo> JoinAsync(CancellationToken cancellationToken)
    {
        using var bypass = HookBypass.Enter();
        var info = await EnsureControlAsync(cancellationToken).ConfigureAwait(false);
        Diagnostics.StartupTrace.Mark("session host joined");
        return info;
    }

    /// <summary>
    /// Joins a host that runs and has its session, on this thread, with blocking calls: the common start, which waits
    /// for it anyway, pays for no thread switch and no asynchronous machinery (its code is not precompiled). Null when
    /// no host answers at once: <see cref="JoinAsync"/> then starts one, or waits for the one starting.
    /// </summary>
    public SessionInfo? TryJoinRunning()
    {
        using var bypass = HookBypass.Enter();
        _control.Wait();
        try
        {
            if (_controlSocket is not null || _joined is not null)
            {
                return null;
            }

            if (BlockingUnixSocket.TryConnect(Files.Socket, _options.Timeout, out var nobody) is not { } socket)
            {
                if (nobody && CanStartHost)
                {
                    // No host: one starts now, before the full way (asynchronous, its code compiled as it first runs)
                    // gets to it; that way then connects to this one.
                    StartHostEarly();
                }

                return null;
            }

            try
            {
                HostLines.Write(socket, """{"kind":"control"}"""u8);
                using var line = HostLines.Read(socket);
                if (line?.RootElement is not { } root || !root.TryGetProperty("ok", out var ok))
                {
                    // Leaving, starting its agent (progress), or failing: the full way handles each.
                    socket.Dispose();
                    return null;
                }

                _info = SessionInfo.Read(ok);
                _joined = socket;
                Diagnostics.StartupTrace.Mark("session host joined");
                return _info;
            }
            catch (IOException)
            {
                socket.Dispose();
                return null;
            }
        }
        finally
        {
            _control.Release();
        }
    }

    /// <summary>Tells the host where this process keeps its copies (the host removes them if the process dies).</summary>
    public void UseCache(string root)
    {
        _cacheRoot = root;
        // Sent in the background, so that the process's start does not wait for the host's answer; the control
        // connection is taken here, so it goes before every later request of this process (its watches).
        using var bypass = HookBypass.Enter();
        _control.Wait();
        _ = Task.Run(() =>
        {
            try
            {
                Send(w => w.WriteString("cache", root));
            }
            finally
            {
                _control.Release();
            }
        });
    }

    /// <summary>From now on the host sends <paramref name="remotePath"/> to the pod whenever its copy is closed after a write; false when the host cannot be asked now.</summary>
    public bool Watch(string remotePath)
    {
        lock (_watched)
        {
            _watched.Add(remotePath);
        }

        return Request(w => w.WriteString("watch", remotePath));
    }

    /// <summary>Waits until the host has sent every write of this process to the pod.</summary>
    public bool Flush() => Request(w => w.WriteBoolean("flush", true));

    private bool Request(Action<System.Text.Json.Utf8JsonWriter> write)
    {
        using var bypass = HookBypass.Enter();
        _control.Wait();
        try
        {
            return Send(write);
        }
        finally
        {
            _control.Release();
        }
    }

    /// <summary>One request on the control connection, which the caller holds; false when the host cannot be asked now.</summary>
    private bool Send(Action<System.Text.Json.Utf8JsonWriter> write)
    {
        try
        {
            if (ControlSocket() is not { } socket)
            {
                return false;
            }

            using var timeout = new CancellationTokenSource(_options.Timeout);
            HostLines.WriteAsync(socket, write, timeout.Token).GetAwaiter().GetResult();
            using var reply = HostLines.ReadAsync(socket, timeout.Token).GetAwaiter().GetResult();
            return reply is not null;
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>The control connection (a new one, and a new host if need be, when the last is gone), and what the host said of the session.</summary>
    private async Task<SessionInfo> EnsureControlAsync(CancellationToken cancellationToken)
    {
        await _control.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ControlSocket() is { } open && _info is { } known && Alive(open))
            {
                return known;
            }

            _controlSocket?.Dispose();
            _controlSocket = null;
            // A host that closes the connection before it says anything is one leaving as this process came (its
            // linger over, or the one of two started at once that did not get the lock): connect again, or start one.
            // A host leaving may take a while to let go of its lock: keep at it for as long as a start may take.
            Socket socket;
            var since = Stopwatch.GetTimestamp();
            for (var attempt = 1; ; attempt++)
            {
                var last = Stopwatch.GetElapsedTime(since) > StartWait;
                socket = await ConnectAsync(cancellationToken).ConfigureAwait(false) ?? await StartHostAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await HostLines.WriteAsync(socket, w => w.WriteString("kind", "control"), cancellationToken).ConfigureAwait(false);
                    if (await HostLines.PeekAsync(socket, cancellationToken).ConfigureAwait(false) || last)
                    {
                        break;
                    }
                }
                catch (SocketException) when (!last)
                {
                }

                socket.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 500)), cancellationToken).ConfigureAwait(false);
            }

            try
            {
                while (true)
                {
                    using var line = await HostLines.ReadAsync(socket, cancellationToken).ConfigureAwait(false)
                        ?? throw new IOException($"The session host of {_options.Target} closed the connection while starting; see {Files.Log}.");
                    var root = line.RootElement;
                    if (root.String("progress") is { } progress)
                    {
                        SessionLog.Progress(_logger, progress);
                    }
                    else if (root.String("error") is { } error)
                    {
                        throw new IOException(error);
                    }
                    else if (root.TryGetProperty("ok", out var ok))
                    {
                        _info = SessionInfo.Read(ok);
                        Diagnostics.StartupTrace.MarkFrom("session host", _info.HostSteps);
                        break;
                    }
                }
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            _controlSocket = socket;
            Interlocked.Exchange(ref _earlyHost, null)?.Dispose(); // it listened before this process looked for it again
        }
        finally
        {
            _control.Release();
        }

        // A new host knows nothing of this process yet: where its copies are, which it writes.
        if (_cacheRoot is { } cache)
        {
            UseCache(cache);
            string[] watched;
            lock (_watched)
            {
                watched = [.. _watched];
            }

            foreach (var path in watched)
            {
                // Written while no host watched, perhaps: sent once now.
                Request(w =>
                {
                    w.WriteString("watch", path);
                    w.WriteBoolean("again", true);
                });
            }
        }

        return _info!;
    }

    /// <summary>The control connection, which the caller holds (<see cref="_control"/>), or null.</summary>
    private Socket? ControlSocket()
    {
        if (_joined is { } joined)
        {
            _joined = null;
            _controlSocket = joined.ToSocket();
        }

        return _controlSocket;
    }

    private static bool Alive(Socket socket)
    {
        try
        {
            // Readable with nothing to read: the host closed it.
            return !(socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>A connection to the running host, or null when none listens.</summary>
    private async Task<Socket?> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Files.Socket), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Starts the host, detached, and connects once it listens. Two processes doing this at once end with one host: the other one's finds the lock taken and leaves.</summary>
    private async Task<Socket> StartHostAsync(CancellationToken cancellationToken)
    {
        if (!CanStartHost)
        {
            var name = _options.Session.Name;
            throw new IOException($"Session '{name}' is not running: start it with `clusterctx session start {name} -t TARGET`, or give a target as well.");
        }

        var started = Stopwatch.GetTimestamp();
        var host = Interlocked.Exchange(ref _earlyHost, null) ?? Spawn();
        var spawned = 1;
        var delay = TimeSpan.FromMilliseconds(5);
        try
        {
            while (true)
            {
                if (await ConnectAsync(cancellationToken).ConfigureAwait(false) is { } socket)
                {
                    return socket;
                }

                // The one started left without listening: another host had the lock and was listening when it looked,
                // and that one has left since (its agent failed to start, say). Start one again.
                if (host.HasExited && spawned < 3)
                {
                    // 126/127: the native host's loader refused it (not executable, a C library without what it
                    // needs) before any of its code ran.
                    if (host.ExitCode is 126 or 127 && host.StartInfo.FileName.EndsWith(NativeHostExecutable, StringComparison.Ordinal))
                    {
                        s_nativeHostUnusable = true;
                    }

                    host.Dispose();
                    host = Spawn();
                    spawned++;
                }

                if (Stopwatch.GetElapsedTime(started) > StartWait)
                {
                    var log = File.Exists(Files.Log) ? File.ReadAllText(Files.Log).Trim() : "";
                    throw new IOException($"The session host did not listen on {Files.Socket} within {StartWait.TotalSeconds:0} s{(log.Length > 0 ? ": " + log : "")}. Set session.shared to false (CLUSTERCONTEXT_SESSION_SHARED=false) to start an agent in this process instead.");
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
            }
        }
        finally
        {
            host.Dispose();
        }

    }

    /// <summary>Starts the host that <see cref="StartHostAsync"/> then waits for; a failure to start it is left to that one to report.</summary>
    private void StartHostEarly()
    {
        try
        {
            var host = Spawn();
            Interlocked.Exchange(ref _earlyHost, host)?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
        }
    }

    private Process Spawn()
    {
        SessionLog.Progress(_logger, $"Starting the session host of {_options.Target}");
        Diagnostics.StartupTrace.Mark("no session host runs: starting one");
        var native = NativeHostPath();
        Process? process;
        try
        {
            process = Process.Start(HostStartInfo(native));
        }
        catch (System.ComponentModel.Win32Exception) when (native is not null)
        {
            // The native host cannot be started here (a system without the loader it names, musl's, say).
            s_nativeHostUnusable = true;
            process = Process.Start(HostStartInfo(null));
        }

        if (process is null)
        {
            throw new IOException($"Could not start the session host ({HostPath}). Set session.shared to false (CLUSTERCONTEXT_SESSION_SHARED=false) to start an agent in this process instead.");
        }

        process.StandardInput.Close();
        process.StandardOutput.Close();
        process.StandardError.Close();
        Diagnostics.StartupTrace.Mark($"session host process {process.Id} started");
        return process;
    }

    /// <summary>How the host starts: <paramref name="native"/> itself, else <c>dotnet ClusterContext.SessionHost.dll</c>.</summary>
    private ProcessStartInfo HostStartInfo(string? native)
    {
        var dotnet = Path.Combine(Hosting.ToolingProcess.DotnetRoot, "dotnet");
        var info = new ProcessStartInfo(native ?? (File.Exists(dotnet) ? dotnet : "dotnet"))
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (native is null)
        {
            info.ArgumentList.Add(HostPath);
        }

        void Add(string key, string? value)
        {
            if (value is not null)
            {
                info.ArgumentList.Add("--" + key);
                info.ArgumentList.Add(value);
            }
        }

        Add("folder", Path.GetDirectoryName(Files.Socket));
        Add("name", Files.Name);
        Add("linger", _options.Session.Linger.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        Add("target", _options.Target);
        Add("namespace", _options.Namespace);
        Add("context", _options.Context);
        Add("image", _options.Agent.Image);
        Add("port", _options.Agent.Port?.ToString(CultureInfo.InvariantCulture));
        Add("start-timeout", _options.Agent.StartTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        Add("timeout", _options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture));
        if (KubeConnector.Capabilities(_options).Count > 0)
        {
            info.ArgumentList.Add("--incoming");
        }

        if (Diagnostics.StartupTrace.Enabled)
        {
            info.ArgumentList.Add("--trace-startup");
        }

        // The machine's environment as the process found it (not the pod's, imported since), without the hook.
        info.Environment.Clear();
        foreach (DictionaryEntry variable in _environment)
        {
            var key = (string)variable.Key;
            if (key != "DOTNET_STARTUP_HOOKS" && !key.StartsWith("CLUSTERCONTEXT_", StringComparison.Ordinal))
            {
                info.Environment[key] = variable.Value as string;
            }
        }

        // What the host needs that is not beside it: where this process found ClusterContext's dependencies.
        info.Environment["CLUSTERCONTEXT_HOST_PROBE"] = string.Join(Path.PathSeparator, new[]
        {
            typeof(SessionHostClient).Assembly, typeof(ILogger).Assembly, typeof(Protocol.ProtocolException).Assembly,
            typeof(YamlDotNet.Serialization.IDeserializer).Assembly,
        }.Select(a => Path.GetDirectoryName(a.Location)).Where(d => !string.IsNullOrEmpty(d)).Distinct());
        info.Environment["CLUSTERCONTEXT_HOST_LOG"] = Files.Log;

        // The host relays bytes between sockets and does little else: each read's continuation runs on the thread that
        // saw the socket ready instead of waking a thread-pool thread for it, one thread wake less per hop.
        info.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        return info;
    }

    public void Dispose()
    {
        _control.Wait();
        try
        {
            _joined?.Dispose();
            _joined = null;
            _controlSocket?.Dispose();
            _controlSocket = null;
        }
        finally
        {
            _control.Release();
        }
    }
}
