using System.Diagnostics;
using System.Net;
using ClusterContext.Testing.Sandbox.FileSystem;
using ClusterContext.Testing.Sandbox.Network;
using ClusterContext.Testing.Sandbox.Processes;
using ClusterContext.Testing.Sandbox.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Testing.Sandbox;

/// <summary>
/// One emulated Kubernetes pod on this machine, without a container runtime: a network namespace with the pod IP,
/// an app container process in its own root file system and mount namespace with the pod's environment and files,
/// and in-cluster services (cluster DNS, redis) in a sibling namespace reachable only from the pod. Needs root.
/// </summary>
public sealed partial class PodSandbox : IAsyncDisposable
{
    /// <summary>The redis service port, 6379.</summary>
    public const int RedisPort = SandboxAddresses.RedisPort;

    private static readonly TimeSpan s_killTimeout = TimeSpan.FromSeconds(5);

    private readonly SandboxTools _tools;
    private readonly SandboxAddresses _addresses;
    private readonly SandboxLease _lease;
    private readonly ILogger _logger;
    private readonly TimeSpan _readinessTimeout;
    private readonly IReadOnlyList<string> _appCommand;
    private readonly bool _startRedis;
    private readonly IReadOnlyDictionary<string, IPAddress> _serviceRecords;
    private readonly List<TrackedProcess> _processes = [];
    private readonly Lock _processesLock = new();
    private readonly List<string> _teardownProblems = [];
    private PodVolumes? _volumes;
    private string _step = "claim a sandbox number";
    private int _disposed;

    private PodSandbox(PodSandboxOptions options, SandboxTools tools, SandboxLease lease, ILogger logger)
    {
        _tools = tools;
        _lease = lease;
        _logger = logger;
        _addresses = new SandboxAddresses(lease.State.Index);
        _readinessTimeout = options.ReadinessTimeout;
        _appCommand = [.. options.AppCommand];
        _startRedis = options.StartRedis;
        _serviceRecords = new Dictionary<string, IPAddress>(options.ServiceRecords, StringComparer.OrdinalIgnoreCase);
        Namespace = options.Namespace;
        PodName = options.PodName;
        var environment = new Dictionary<string, string>(options.Environment, StringComparer.Ordinal);
        if (options.ServiceVariables && options.StartRedis)
        {
            foreach (var (name, value) in KubeletServiceVariables("redis", RedisIP, SandboxAddresses.RedisPort))
            {
                environment.TryAdd(name, value);
            }
        }

        Environment = environment;
    }

    /// <summary>The variables a kubelet sets in a pod for a TCP service of its namespace (the docker-links style ones too).</summary>
    public static IEnumerable<KeyValuePair<string, string>> KubeletServiceVariables(string service, IPAddress clusterIP, int port)
    {
        var prefix = service.ToUpperInvariant().Replace('-', '_');
        var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var url = $"tcp://{clusterIP}:{portText}";
        yield return new($"{prefix}_SERVICE_HOST", clusterIP.ToString());
        yield return new($"{prefix}_SERVICE_PORT", portText);
        yield return new($"{prefix}_PORT", url);
        yield return new($"{prefix}_PORT_{portText}_TCP", url);
        yield return new($"{prefix}_PORT_{portText}_TCP_PROTO", "tcp");
        yield return new($"{prefix}_PORT_{portText}_TCP_PORT", portText);
        yield return new($"{prefix}_PORT_{portText}_TCP_ADDR", clusterIP.ToString());
    }

    /// <summary>The sandbox number N that its names and addresses derive from (1 to 254).</summary>
    public int Index => _addresses.Index;

    /// <summary>The pod's Kubernetes namespace.</summary>
    public string Namespace { get; }

    /// <summary>The pod name.</summary>
    public string PodName { get; }

    /// <summary>The app container's exact environment.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>The pod's network namespace, <c>cc&lt;N&gt;-pod</c> (as listed by <c>ip netns</c>).</summary>
    public string PodNetworkNamespace => _addresses.PodNamespace;

    /// <summary>The path of the pod's network namespace, for <c>nsenter --net=</c> or <c>setns</c>.</summary>
    public string PodNetworkNamespacePath => SandboxAddresses.NamespacePath(_addresses.PodNamespace);

    /// <summary>The services' network namespace, <c>cc&lt;N&gt;-svc</c>, linked only to the pod's.</summary>
    public string ServicesNetworkNamespace => _addresses.ServicesNamespace;

    /// <summary>The host end of the host-to-pod veth pair, <c>cc&lt;N&gt;-h</c>.</summary>
    public string HostInterface => _addresses.HostInterface;

    /// <summary>The pod IP, 10.240.N.2, on the pod's <c>eth0</c>.</summary>
    public IPAddress PodIP => _addresses.PodIP;

    /// <summary>The host's address on the pod link, 10.240.N.1.</summary>
    public IPAddress HostIP => _addresses.HostIP;

    /// <summary>The pod's address as the services' network namespace reaches it (its link to that namespace).</summary>
    public IPAddress PodServicesLinkIP => _addresses.PodServicesLinkIP;

    /// <summary>The in-cluster services network, 10.241.N.0/24: reachable from the pod, unreachable from the host.</summary>
    public IPNetwork ServicesCidr => _addresses.ServicesCidr;

    /// <summary>The cluster DNS server (dnsmasq), 10.241.N.10, port 53 over UDP and TCP.</summary>
    public IPAddress DnsServerIP => _addresses.DnsServerIP;

    /// <summary>The redis service address, 10.241.N.20.</summary>
    public IPAddress RedisIP => _addresses.RedisIP;

    /// <summary>The redis service's cluster DNS name, <c>redis.&lt;namespace&gt;.svc.cluster.local</c>.</summary>
    public string RedisHostName => $"redis.{Namespace}.svc.cluster.local";

    /// <summary>The pid of the app container's process; <c>/proc/&lt;pid&gt;/root</c> is the container's root.</summary>
    public int AppPid { get; private set; }

    /// <summary>What the app container writes to stdout and stderr, line by line with times (as <c>kubectl logs</c> shows it).</summary>
    public ContainerOutput AppOutput { get; private set; } = new();

    /// <summary>The sandbox's temp directory on the host; everything the sandbox writes is in it.</summary>
    public string TempPath { get; private set; } = "";

    /// <summary>The host path of the app container's root directory (without the pod's mounts, which only the container sees).</summary>
    public string RootFsPath { get; private set; } = "";

    /// <summary>A file on the host outside the container root, for tests that check nothing escapes the root.</summary>
    public string HostOnlyPath { get; private set; } = "";

    /// <summary>What went wrong during <see cref="DisposeAsync"/>; empty after a clean teardown.</summary>
    public IReadOnlyList<string> TeardownProblems => _teardownProblems;

    /// <summary>
    /// Creates and starts a sandbox. On failure everything already made is removed and a
    /// <see cref="PodSandboxException"/> names the failed step and the failing command's stderr.
    /// </summary>
    public static async Task<PodSandbox> StartAsync(PodSandboxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionsValidation.Validate(options);
        var files = new Dictionary<string, byte[]>(ServiceAccountFiles.Create(options), StringComparer.Ordinal);
        foreach (var (path, content) in options.Files)
        {
            files[path] = content;
        }

        var plan = PodFilePlan.Create(files);
        var tools = Prerequisites.Require();
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PodSandbox>();
        var stopwatch = Stopwatch.StartNew();
        var lease = await SandboxRegistry.ClaimAsync(tools, logger, cancellationToken).ConfigureAwait(false);
        var sandbox = new PodSandbox(options, tools, lease, logger);
        SandboxLog.Claimed(logger, sandbox.Index, sandbox.PodNetworkNamespace, sandbox.ServicesNetworkNamespace);
        try
        {
            await sandbox.StartCoreAsync(plan, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            SandboxLog.StartFailed(logger, sandbox.Index, (e as PodSandboxException)?.Step ?? sandbox._step, sandbox.TempPath, e);
            await sandbox.DisposeAsync().ConfigureAwait(false);
            if (e is PodSandboxException or OperationCanceledException)
            {
                throw;
            }

            throw new PodSandboxException(sandbox._step, e.Message, standardError: null, e);
        }

        SandboxLog.Started(logger, sandbox.Index, stopwatch.ElapsedMilliseconds, sandbox.PodIP.ToString(), sandbox.AppPid);
        return sandbox;
    }

    private TrackedProcess Track(TrackedProcess process)
    {
        lock (_processesLock)
        {
            if (_disposed == 0)
            {
                _processes.Add(process);
                _lease.AddProcess(process.Name, process.Pid, process.StartTime);
                return process;
            }
        }

        // Started while the sandbox was being disposed: it would outlive the teardown.
        _ = process.StopAsync(s_killTimeout);
        throw new ObjectDisposedException(nameof(PodSandbox));
    }

    private ProcessStartInfo InNetworkNamespace(string namespaceName, string fileName, IEnumerable<string> arguments) =>
        CommandRunner.CreateStartInfo(_tools.Nsenter, [$"--net={SandboxAddresses.NamespacePath(namespaceName)}", "--", fileName, .. arguments]);
}
