using System.Globalization;
using System.Net.Sockets;
using ClusterContext.Hosting;

namespace ClusterContext.Session.Host;

/// <summary>
/// The session host process (<c>ClusterContext.SessionHost.dll</c> beside the hook calls <see cref="Run"/>): a session
/// of its own (a terminal's Ctrl+C meant for the app that started it does not reach it), its standard streams on
/// /dev/null and its log, the lock that makes it the only host of its session, then the socket.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class SessionHostProgram
{
    /// <summary>How long a new host waits for the lock of one that is leaving.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    /// <summary><see cref="Run"/>, with a failure written where the starting process looks for it (<c>CLUSTERCONTEXT_HOST_LOG</c>).</summary>
    public static int RunReportingFailure(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable("CLUSTERCONTEXT_HOST_LOG") is { Length: > 0 } log)
        {
            // The starting process shows this when the host does not come up.
            File.AppendAllText(log, $"The session host could not start: {ex}{Environment.NewLine}");
            return 1;
        }
    }

    public static int Run(string[] args)
    {
        var arguments = Parse(args);
        if (arguments.ContainsKey("trace-startup"))
        {
            Diagnostics.StartupTrace.CollectForClients();
        }

        _ = HostInterop.SetSid();
        var files = SessionHostPaths.For(arguments["folder"], arguments["name"]);
        // The log only once this is the session's host: one that finds another holding the lock must not truncate
        // (or remove) the log that one writes.
        RedirectStreams(null);
        var options = new ClusterContextOptions
        {
            Target = arguments["target"],
            Namespace = arguments.GetValueOrDefault("namespace"),
            Context = arguments.GetValueOrDefault("context"),
            Timeout = TimeSpan.FromSeconds(double.Parse(arguments["timeout"], CultureInfo.InvariantCulture)),
        };
        options.Agent.Image = arguments["image"];
        options.Agent.Port = arguments.TryGetValue("port", out var port) ? int.Parse(port, CultureInfo.InvariantCulture) : null;
        options.Agent.StartTimeout = TimeSpan.FromSeconds(double.Parse(arguments["start-timeout"], CultureInfo.InvariantCulture));
        options.Network.Incoming.Mode = arguments.ContainsKey("incoming") ? IncomingTrafficMode.Steal : IncomingTrafficMode.Off;
        TrustTheKubeconfigOnly(options);
        var linger = double.Parse(arguments["linger"], CultureInfo.InvariantCulture) is var seconds && seconds >= 0 ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;

        int? taken;
        try
        {
            taken = TakeLock(files);
        }
        catch
        {
            // Why it could not even try (the folder, the lock file) is for the log, which the client shows.
            RedirectStreams(files.Log);
            throw;
        }

        if (taken is not { } lockFd)
        {
            // Another host serves this session.
            return 0;
        }

        RedirectStreams(files.Log);

        var clean = false;
        try
        {
            using var loggers = new StderrLoggerFactory();
            using var server = new SessionHostServer(options, files, linger, loggers.CreateLogger("ClusterContext.SessionHost"));
            // The agent's start (kubeconfig, the API server, the pod) is what the process that started this host waits
            // for: it begins now, while the lock file is written and the socket opened.
            server.StartAgent();
            HostInterop.Rewrite(lockFd, SessionHostServer.LockText(files, options, linger));
            SessionHostServer.TryDelete(files.Socket);
            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(files.Socket));
            File.SetUnixFileMode(files.Socket, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(64);
            Diagnostics.StartupTrace.Mark("session host listening");
            var code = server.RunAsync(listener).GetAwaiter().GetResult();
            clean = code == 0;
            return code;
        }
        finally
        {
            SessionHostServer.TryDelete(files.Socket);
            if (clean)
            {
                SessionHostServer.TryDelete(files.Log);
            }

            // Removed while still held: a host waiting for it finds the name gone and takes a new one.
            SessionHostServer.TryDelete(files.Lock);
            _ = HostInterop.Close(lockFd);
        }
    }

    /// <summary>
    /// Where the kubeconfig names the authority the API server is checked against (and no proxy of its own, nor one
    /// reached over TLS, stands between), the host talks to nobody the machine's root store is for; yet building the
    /// chain of its client certificate (and of the server's) reads that whole store first, hundreds of files the first
    /// connection waits for. So it is pointed at nothing for this process, now, while it runs one thread; exec
    /// credential plugins get it back. The kubeconfig is read again as the agent starts (a failure to read it is
    /// reported there).
    /// </summary>
    private static void TrustTheKubeconfigOnly(ClusterContextOptions options)
    {
        try
        {
            var endpoint = Kube.KubeConfigLoader.Load(options.Context, options.Namespace);
            // A proxy reached over TLS (HTTPS_PROXY=https://…) is checked against the machine's store: kept then.
            var tlsProxy = ((string[])["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
                .Any(name => Environment.GetEnvironmentVariable(name)?.StartsWith("https:", StringComparison.OrdinalIgnoreCase) == true);
            if (endpoint.CertificateAuthority is not null && endpoint.ProxyUrl is null && !tlsProxy)
            {
                Kube.ExecCredentialProvider.MachineEnvironment = HostInterop.HideMachineTrustStore();
            }
        }
#pragma warning disable CA1031 // whatever the kubeconfig's fault, it is the agent's start that reports it
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }

    /// <summary>The session's lock, held for the host's life; null when a live host has it.</summary>
    private static int? TakeLock(SessionHostFiles files)
    {
        var deadline = DateTime.UtcNow + LockWait;
        while (true)
        {
            var fd = HostInterop.OpenLockFile(files.Lock);
            if (fd < 0)
            {
                throw new IOException($"Cannot open {files.Lock}: {System.Runtime.InteropServices.Marshal.GetLastPInvokeErrorMessage()}");
            }

            if (HostInterop.TryLock(fd))
            {
                if (HostInterop.StillNamed(fd, files.Lock))
                {
                    return fd;
                }

                // The host before removed it as it left: lock the new one.
                _ = HostInterop.Close(fd);
                continue;
            }

            _ = HostInterop.Close(fd);
            if (Accepts(files.Socket) || DateTime.UtcNow > deadline)
            {
                return null;
            }

            // The holder is leaving (its socket is gone already): wait for it.
            Thread.Sleep(50);
        }
    }

    private static bool Accepts(string socketPath)
    {
        try
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Standard input and output on /dev/null; standard error on <paramref name="log"/> (on /dev/null too while null).</summary>
    private static void RedirectStreams(string? log)
    {
        var devNull = HostInterop.OpenForStreams("/dev/null");
        var logFd = log is null ? -1 : HostInterop.OpenForStreams(log);
        if (devNull >= 0)
        {
            _ = HostInterop.Dup2(devNull, 0);
            _ = HostInterop.Dup2(devNull, 1);
            if (log is null)
            {
                _ = HostInterop.Dup2(devNull, 2);
            }

            _ = HostInterop.Close(devNull);
        }

        if (logFd >= 0)
        {
            _ = HostInterop.Dup2(logFd, 2);
            _ = HostInterop.Close(logFd);
        }
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            }

            var key = args[i][2..];
            parsed[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
        }

        return parsed;
    }
}
