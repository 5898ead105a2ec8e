using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ClusterContext.Testing.Sandbox.Network;
using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    private static readonly TimeSpan s_dnsProbeTimeout = TimeSpan.FromMilliseconds(250);

    private string DnsHostsDirectory => Path.Combine(TempPath, "dns", "hosts.d");

    private TrackedProcess StartDnsmasq()
    {
        Directory.CreateDirectory(DnsHostsDirectory);
        List<string> arguments =
        [
            "--keep-in-foreground",
            "--conf-file=/dev/null", // Debian's /etc/dnsmasq.conf and conf-dir are the host's business
            "--no-resolv",
            "--no-hosts",
            "--no-negcache", // a name added later must not hide behind a cached NXDOMAIN
            "--bind-interfaces",
            $"--listen-address={DnsServerIP}",
            "--port=53",
            "--user=root",
            $"--pid-file={Path.Combine(TempPath, "dns", "dnsmasq.pid")}",
            "--log-facility=-",
            "--local=/cluster.local/", // other cluster.local names are NXDOMAIN, and nothing is forwarded anywhere
            $"--hostsdir={DnsHostsDirectory}", // watched with inotify: AddServiceRecordAsync drops files here
        ];
        var records = new Dictionary<string, IPAddress>(_serviceRecords, StringComparer.OrdinalIgnoreCase);
        if (_startRedis)
        {
            records.TryAdd(RedisHostName, RedisIP);
        }

        arguments.AddRange(records.Select(r => $"--host-record={r.Key},{r.Value}"));
        return Track(TrackedProcess.StartCapturing("dnsmasq", InNetworkNamespace(ServicesNetworkNamespace, _tools.Dnsmasq, arguments)));
    }

    private TrackedProcess StartRedis()
    {
        var directory = Path.Combine(TempPath, "redis");
        Directory.CreateDirectory(directory);
        string[] arguments =
        [
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "no",
            "--daemonize", "no",
            "--bind", RedisIP.ToString(),
            "--port", RedisPort.ToString(CultureInfo.InvariantCulture),
            "--dir", directory,
            "--logfile", "",
        ];
        return Track(TrackedProcess.StartCapturing("redis-server", InNetworkNamespace(ServicesNetworkNamespace, _tools.RedisServer, arguments)));
    }

    /// <summary>Any DNS answer means dnsmasq is serving (the records themselves are the tests' business).</summary>
    private async Task<string?> DnsAnswersAsync(CancellationToken cancellationToken)
    {
        await QueryDnsCoreAsync("ready.pod-sandbox.cluster.local", useTcp: false, s_dnsProbeTimeout, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Asks the way a client in the pod would: from the pod's namespace, across the services link.</summary>
    private async Task<string?> RedisAnswersAsync(CancellationToken cancellationToken)
    {
        using var socket = CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(RedisIP, RedisPort), cancellationToken).ConfigureAwait(false);
        await socket.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var reply = Encoding.ASCII.GetString(buffer, 0, received);
        return reply.StartsWith("+PONG", StringComparison.Ordinal) ? null : $"PING answered '{reply.Trim()}'";
    }

    private Task<DnsQueryResult> QueryDnsCoreAsync(string name, bool useTcp, TimeSpan timeout, CancellationToken cancellationToken) =>
        DnsClient.QueryAsync(
            (type, protocol) => CreatePodSocket(AddressFamily.InterNetwork, type, protocol), DnsServerIP, name, useTcp, timeout, cancellationToken);
}
