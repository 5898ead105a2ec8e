using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    /// <summary>
    /// host ── cc&lt;N&gt;-h 10.240.N.1 ═ eth0 10.240.N.2 [pod] eth1 10.241.N.1 ═ eth0 10.241.N.2/.10/.20 [svc].
    /// Every route is on-link, so no forwarding is enabled and no namespace has a default route: traffic can only go
    /// between the host, the pod and the services, never off the machine.
    /// </summary>
    private async Task CreateNetworkAsync(CancellationToken cancellationToken)
    {
        var pod = PodNetworkNamespace;
        var svc = ServicesNetworkNamespace;
        var host = HostInterface;

        await IpAsync("create the pod network namespace", cancellationToken, "netns", "add", pod).ConfigureAwait(false);
        await IpAsync("create the services network namespace", cancellationToken, "netns", "add", svc).ConfigureAwait(false);

        await IpAsync("create the host-to-pod veth pair", cancellationToken, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", pod)
            .ConfigureAwait(false);
        await IpAsync("configure the host end of the pod link", cancellationToken, "addr", "add", $"{HostIP}/24", "dev", host).ConfigureAwait(false);
        await IpAsync("configure the host end of the pod link", cancellationToken, "link", "set", host, "up").ConfigureAwait(false);
        await IpAsync("configure the pod's eth0", cancellationToken, "-n", pod, "addr", "add", $"{PodIP}/24", "dev", "eth0").ConfigureAwait(false);
        await IpAsync("configure the pod's eth0", cancellationToken, "-n", pod, "link", "set", "eth0", "up").ConfigureAwait(false);
        await IpAsync("configure the pod's loopback", cancellationToken, "-n", pod, "link", "set", "lo", "up").ConfigureAwait(false);

        await IpAsync("create the pod-to-services veth pair", cancellationToken, "-n", pod, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", svc)
            .ConfigureAwait(false);
        await IpAsync("configure the pod's eth1", cancellationToken, "-n", pod, "addr", "add", $"{_addresses.PodServicesLinkIP}/24", "dev", "eth1")
            .ConfigureAwait(false);
        await IpAsync("configure the pod's eth1", cancellationToken, "-n", pod, "link", "set", "eth1", "up").ConfigureAwait(false);
        foreach (var address in new[] { _addresses.ServicesLinkIP, DnsServerIP, RedisIP })
        {
            await IpAsync("configure the services' eth0", cancellationToken, "-n", svc, "addr", "add", $"{address}/24", "dev", "eth0").ConfigureAwait(false);
        }

        await IpAsync("configure the services' eth0", cancellationToken, "-n", svc, "link", "set", "eth0", "up").ConfigureAwait(false);
        await IpAsync("configure the services' loopback", cancellationToken, "-n", svc, "link", "set", "lo", "up").ConfigureAwait(false);

        // Without this the host would send 10.241.N.x to its default gateway, off the machine; now it fails at once.
        await IpAsync("add the unreachable host route for the services network", cancellationToken, "route", "add", "unreachable", ServicesCidr.ToString())
            .ConfigureAwait(false);
    }

    private Task<CommandResult> IpAsync(string step, CancellationToken cancellationToken, params string[] arguments)
    {
        _step = step;
        return CommandRunner.RunCheckedAsync(step, _tools.Ip, arguments, cancellationToken);
    }
}
