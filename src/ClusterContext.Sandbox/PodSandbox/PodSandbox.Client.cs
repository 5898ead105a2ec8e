using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ClusterContext.Testing.Sandbox.Network;
using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox;

/// <summary>
/// The client pod: a network namespace of its own (cc&lt;N&gt;-cli, eth0 10.242.N.2 ═ the pod's eth2 10.242.N.1), from
/// which traffic reaches the pod from outside, as another pod's would: to the pod IP, and to service cluster IPs that
/// a kube-proxy-style DNAT (nat output, in the client's namespace, never in the target pod's) turns into the pod IP.
/// Names of such services resolve through the client's own hosts file. Created on first use; gone with the sandbox.
/// </summary>
public sealed partial class PodSandbox
{
    private readonly SemaphoreSlim _clientGate = new(1, 1);
    private readonly Dictionary<string, IPAddress> _clientHosts = new(StringComparer.OrdinalIgnoreCase);
    private bool _clientStarted;

    /// <summary>The client pod's network namespace.</summary>
    public string ClientNetworkNamespace => _addresses.ClientNamespace;

    /// <summary>The client pod's IP: the source address the target pod sees for the client's connections.</summary>
    public IPAddress ClientIP => _addresses.ClientIP;

    private string ClientHostsPath => Path.Combine(TempPath, "client", "hosts");

    /// <summary>Creates the client pod's namespace and its link to the pod, once.</summary>
    public async Task StartClientAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        await _clientGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_clientStarted)
            {
                return;
            }

            var client = ClientNetworkNamespace;
            await IpAsync("create the client pod's network namespace", cancellationToken, "netns", "add", client).ConfigureAwait(false);
            await IpAsync("create the client-to-pod veth pair", cancellationToken, "-n", PodNetworkNamespace, "link", "add", "eth2", "type", "veth", "peer", "name", "eth0", "netns", client)
                .ConfigureAwait(false);
            await IpAsync("configure the pod's eth2", cancellationToken, "-n", PodNetworkNamespace, "addr", "add", $"{_addresses.PodClientLinkIP}/24", "dev", "eth2").ConfigureAwait(false);
            await IpAsync("configure the pod's eth2", cancellationToken, "-n", PodNetworkNamespace, "link", "set", "eth2", "up").ConfigureAwait(false);
            await IpAsync("configure the client's eth0", cancellationToken, "-n", client, "addr", "add", $"{ClientIP}/24", "dev", "eth0").ConfigureAwait(false);
            await IpAsync("configure the client's eth0", cancellationToken, "-n", client, "link", "set", "eth0", "up").ConfigureAwait(false);
            await IpAsync("configure the client's loopback", cancellationToken, "-n", client, "link", "set", "lo", "up").ConfigureAwait(false);

            // On-link, as the pod network is to a pod: the pod answers ARP for its eth0 address on eth2 too.
            await IpAsync("route the pod IP from the client", cancellationToken, "-n", client, "route", "add", $"{PodIP}/32", "dev", "eth0").ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(ClientHostsPath)!);
            await WriteClientHostsAsync(cancellationToken).ConfigureAwait(false);
            _clientStarted = true;
        }
        finally
        {
            _clientGate.Release();
        }
    }

    /// <summary>
    /// A service seen from the client pod: <paramref name="clusterIP"/>:<paramref name="port"/> is DNATed to the pod IP's
    /// <paramref name="targetPort"/> as kube-proxy does it, and <paramref name="name"/> (e.g. orders.shop.svc.cluster.local)
    /// resolves to the cluster IP in the client.
    /// </summary>
    public async Task AddClientServiceAsync(string name, IPAddress clusterIP, int port, int targetPort, CancellationToken cancellationToken = default)
    {
        OptionsValidation.ValidateRecord(name, clusterIP);
        await StartClientAsync(cancellationToken).ConfigureAwait(false);
        var client = ClientNetworkNamespace;
        await IpAsync("route a cluster IP from the client", cancellationToken, "-n", client, "route", "add", $"{clusterIP}/32", "dev", "eth0").ConfigureAwait(false);
        var rules = new StringBuilder()
            .AppendLine("table ip sandbox-kube-proxy {")
            .AppendLine("  chain output { type nat hook output priority -100; policy accept; }")
            .AppendLine("}")
            .AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"add rule ip sandbox-kube-proxy output ip daddr {clusterIP} tcp dport {port} dnat to {PodIP}:{targetPort}")
            .ToString();
        var file = Path.Combine(TempPath, "client", $"service-{clusterIP}-{port}.nft");
        await File.WriteAllTextAsync(file, rules, cancellationToken).ConfigureAwait(false);
        _step = "program the client's service DNAT";
        await CommandRunner.RunCheckedAsync(_step, _tools.Nsenter, [$"--net={SandboxAddresses.NamespacePath(client)}", "--", Nft(), "-f", file], cancellationToken).ConfigureAwait(false);

        await _clientGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _clientHosts[name] = clusterIP;
            await WriteClientHostsAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _clientGate.Release();
        }
    }

    /// <summary>A socket in the client pod's network namespace (its connections come from <see cref="ClientIP"/>).</summary>
    public Socket CreateClientSocket(AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _clientStarted
            ? NetworkNamespace.CreateSocket(SandboxAddresses.NamespacePath(ClientNetworkNamespace), addressFamily, socketType, protocolType)
            : throw new InvalidOperationException("The client pod is not started: call StartClientAsync (or AddClientServiceAsync) first.");
    }

    /// <summary>
    /// Runs a host program (curl, wrk, python3) to completion in the client pod: its network namespace, and a private
    /// mount namespace in which /etc/hosts is the client's (so service names resolve). Killed, with its children, when
    /// <paramref name="timeout"/> (default 60 s) passes or <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async Task<PodCommandResult> RunInClientAsync(string fileName, IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        await StartClientAsync(cancellationToken).ConfigureAwait(false);

        // The script is fixed; the hosts file, program and arguments reach it as positional parameters, never as shell text.
        var info = CommandRunner.CreateStartInfo(_tools.Nsenter,
        [
            $"--net={SandboxAddresses.NamespacePath(ClientNetworkNamespace)}", "--",
            _tools.Unshare, "--mount", "--propagation", "private", "--",
            _tools.Shell, "-c", "mount --bind \"$0\" /etc/hosts && exec \"$@\"", ClientHostsPath, fileName, .. arguments,
        ]);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName} in the client pod.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TimeoutException($"{fileName} did not finish in the client pod within {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds:0.#} s; killed. stderr: {await error.ConfigureAwait(false)}");
        }

        return new PodCommandResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    private Task WriteClientHostsAsync(CancellationToken cancellationToken)
    {
        var text = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        foreach (var (name, address) in _clientHosts)
        {
            text.Append(address).Append('\t').Append(name).Append('\n');
        }

        // Replaced in place (same inode): a bind mount made earlier shows the new content.
        return File.WriteAllTextAsync(ClientHostsPath, text.ToString(), cancellationToken);
    }

    private static readonly string[] s_nftPaths = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"];

    private static string Nft() =>
        s_nftPaths.FirstOrDefault(File.Exists)
        ?? throw new PodSandboxException("program the client's service DNAT", "nft is not installed (Debian package nftables).", "");
}
