using System.Net;

namespace ClusterContext.Testing.Sandbox.Network;

/// <summary>
/// Every name and address of sandbox number N. All of them derive from N alone, so a later run can find and remove
/// what a crashed run left behind, and sandboxes with different N never collide.
/// </summary>
internal sealed class SandboxAddresses(int index)
{
    public const int RedisPort = 6379;

    public int Index { get; } = index;

    public string PodNamespace { get; } = $"cc{index}-pod";

    public string ServicesNamespace { get; } = $"cc{index}-svc";

    /// <summary>The host end of the host-to-pod veth pair (interface names are limited to 15 characters).</summary>
    public string HostInterface { get; } = $"cc{index}-h";

    public IPAddress HostIP { get; } = IPAddress.Parse($"10.240.{index}.1");

    public IPAddress PodIP { get; } = IPAddress.Parse($"10.240.{index}.2");

    public IPNetwork PodCidr { get; } = IPNetwork.Parse($"10.240.{index}.0/24");

    /// <summary>The pod's address on its link to the services namespace (<c>eth1</c>).</summary>
    public IPAddress PodServicesLinkIP { get; } = IPAddress.Parse($"10.241.{index}.1");

    public IPAddress ServicesLinkIP { get; } = IPAddress.Parse($"10.241.{index}.2");

    public IPAddress DnsServerIP { get; } = IPAddress.Parse($"10.241.{index}.10");

    public IPAddress RedisIP { get; } = IPAddress.Parse($"10.241.{index}.20");

    public IPNetwork ServicesCidr { get; } = IPNetwork.Parse($"10.241.{index}.0/24");

    /// <summary>The network namespace of the client pod (a pod of its own, reaching this one over the pod network).</summary>
    public string ClientNamespace { get; } = $"cc{index}-cli";

    /// <summary>The pod's address on its link to the client pod (<c>eth2</c>).</summary>
    public IPAddress PodClientLinkIP { get; } = IPAddress.Parse($"10.242.{index}.1");

    public IPAddress ClientIP { get; } = IPAddress.Parse($"10.242.{index}.2");

    public static string NamespacePath(string name) => $"/run/netns/{name}";

    /// <summary>Whether host output (addresses, routes) mentions either of this sandbox's subnets.</summary>
    public bool IsMentionedIn(string text) =>
        text.Contains($"10.240.{Index}.", StringComparison.Ordinal) || text.Contains($"10.241.{Index}.", StringComparison.Ordinal)
        || text.Contains($"10.242.{Index}.", StringComparison.Ordinal);
}
