using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing.Sandbox.Network;
using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    private int _recordFiles;

    /// <summary>
    /// Starts a host program in the pod's network namespace but the host's mount namespace, the way the agent runs
    /// (it reaches the app's files through <c>/proc/&lt;AppPid&gt;/root</c>). The process is killed on dispose.
    /// </summary>
    /// <param name="fileName">The host program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="configure">Adjusts the start info (environment, redirection); do not change its file name or argument list.</param>
    public Process StartInPod(string fileName, IEnumerable<string> arguments, Action<ProcessStartInfo>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var info = InNetworkNamespace(PodNetworkNamespace, fileName, arguments);
        configure?.Invoke(info);
        return Track(TrackedProcess.StartForCaller($"pod process {Path.GetFileName(fileName)}", info)).Process;
    }

    /// <summary>Runs a host program to completion in the pod's network namespace (host mount namespace).</summary>
    public async Task<PodCommandResult> RunInPodAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var result = await CommandRunner.RunAsync(_tools.Nsenter, [$"--net={PodNetworkNamespacePath}", "--", fileName, .. arguments], cancellationToken)
            .ConfigureAwait(false);
        return new PodCommandResult(result.ExitCode, result.StandardOutput, result.StandardError);
    }

    /// <summary>Creates a socket in the pod's network namespace; it connects and listens as the pod, from this process.</summary>
    public Socket CreatePodSocket(AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return NetworkNamespace.CreateSocket(PodNetworkNamespacePath, addressFamily, socketType, protocolType);
    }

    /// <summary>Asks the cluster DNS server for <paramref name="name"/>'s A records, from inside the pod, over UDP or TCP.</summary>
    public Task<DnsQueryResult> QueryDnsInPodAsync(string name, bool useTcp = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return QueryDnsCoreAsync(name, useTcp, TimeSpan.FromSeconds(2), cancellationToken);
    }

    /// <summary>
    /// Gives the services namespace another service IP (10.241.N.<paramref name="host"/>, 21–254: .2, .10 and .20 are the
    /// link, DNS and redis), so a further in-cluster service gets an address of its own. Gone with the namespace.
    /// </summary>
    public async Task<IPAddress> AddServiceAddressAsync(int host, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(host, 21);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(host, 254);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var bytes = RedisIP.GetAddressBytes();
        bytes[3] = (byte)host;
        var address = new IPAddress(bytes);
        await CommandRunner.RunCheckedAsync("add a service address", _tools.Ip, ["-n", ServicesNetworkNamespace, "addr", "add", $"{address}/24", "dev", "eth0"], cancellationToken)
            .ConfigureAwait(false);
        return address;
    }

    /// <summary>
    /// Gives the services namespace <paramref name="address"/> outside the services network too (a cluster IP such as
    /// the <c>kubernetes</c> service's 10.96.0.1), routed from the pod like the services network; the host has no route
    /// to it added. Gone with the namespaces.
    /// </summary>
    public async Task AddClusterIPAsync(IPAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await CommandRunner.RunCheckedAsync("add a cluster IP", _tools.Ip, ["-n", ServicesNetworkNamespace, "addr", "add", $"{address}/32", "dev", "eth0"], cancellationToken)
            .ConfigureAwait(false);
        await CommandRunner.RunCheckedAsync("route a cluster IP from the pod", _tools.Ip, ["-n", PodNetworkNamespace, "route", "add", $"{address}/32", "dev", "eth1", "src", _addresses.PodServicesLinkIP.ToString()], cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Creates a socket in the services' network namespace, to serve an in-cluster service from this process.</summary>
    public Socket CreateServicesSocket(AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return NetworkNamespace.CreateSocket(SandboxAddresses.NamespacePath(ServicesNetworkNamespace), addressFamily, socketType, protocolType);
    }

    /// <summary>
    /// Adds a cluster DNS record, e.g. <c>web.&lt;namespace&gt;.svc.cluster.local</c>, and returns once the DNS
    /// server answers it from the pod.
    /// </summary>
    public async Task AddServiceRecordAsync(string name, IPAddress address, CancellationToken cancellationToken = default)
    {
        OptionsValidation.ValidateRecord(name, address);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);

        // Written beside the directory and renamed in, so dnsmasq's inotify never sees half a file.
        var fileName = string.Create(CultureInfo.InvariantCulture, $"{Interlocked.Increment(ref _recordFiles)}.hosts");
        var staging = Path.Combine(TempPath, "dns", fileName);
        await File.WriteAllTextAsync(staging, $"{address} {name}\n", cancellationToken).ConfigureAwait(false);
        File.Move(staging, Path.Combine(DnsHostsDirectory, fileName));

        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var answer = await QueryDnsCoreAsync(name, useTcp: false, s_dnsProbeTimeout, cancellationToken).ConfigureAwait(false);
            if (answer.Addresses.Contains(address))
            {
                return;
            }

            if (stopwatch.Elapsed > _readinessTimeout)
            {
                throw new TimeoutException($"dnsmasq did not pick up {name} -> {address} within {_readinessTimeout.TotalSeconds:0.#} s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
        }
    }
}
