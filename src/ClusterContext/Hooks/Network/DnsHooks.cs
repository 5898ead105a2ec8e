using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Patching;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Session;

namespace ClusterContext.Hooks.Network;

/// <summary>
/// Name resolution the pod's way: every lookup first asks the agent (the pod's hosts file, search domains and name
/// servers); names the pod does not know resolve locally as before. On Linux every Dns API ends in
/// <c>NameResolutionPal.TryGetAddrInfo</c>, so this one replacement covers them all.
/// </summary>
internal static unsafe class DnsHooks
{
    private const string Owner = "clustercontext.dns";
    private static readonly TimeSpan UnknownNameMemory = TimeSpan.FromSeconds(30);

    private static RemoteCalls? s_remote;
    private static RemoteDestinations? s_destinations;
    private static nint s_original;
    private static readonly ConcurrentDictionary<string, DateTime> s_unknownInPod = new(StringComparer.OrdinalIgnoreCase);

    public static void Install(IMethodPatcher patcher, RemoteCalls remote, RemoteDestinations destinations)
    {
        s_remote = remote;
        s_destinations = destinations;
        Patch(patcher);
    }

    /// <summary>Puts the patch in place, once; until <see cref="Install"/> names the session, every call goes to the original.</summary>
    public static void Patch(IMethodPatcher patcher)
    {
        if (Patches(patcher) is { } set)
        {
            patcher.Patch([set]);
        }
    }

    /// <summary>The patch <see cref="Patch"/> puts in place, to be put in with other hooks' at once; null when in place already.</summary>
    internal static PatchSet? Patches(IMethodPatcher patcher) => patcher.Owns(Owner) ? null
        : new([(BclChokePoints.DnsResolve, typeof(DnsHooks).GetMethod(nameof(TryGetAddrInfo))!)], Owner, patches => s_original = patches[0].Original);

    public static void Uninstall(IMethodPatcher patcher)
    {
        patcher.RemoveAll(Owner);
        s_remote = null;
    }

    public static SocketError TryGetAddrInfo(string name, bool justAddresses, AddressFamily family, out string? hostName, out string[] aliases, out IPAddress[] addresses, out int nativeErrorCode)
    {
        if (s_remote is { } remote && !HookBypass.Active && ShouldAskPod(name) && Resolve(remote, name, family) is { } answer)
        {
            s_destinations?.Learn(name, answer.Addresses);
            hostName = answer.CanonicalName;
            aliases = [];
            addresses = [.. answer.Addresses];
            nativeErrorCode = 0;
            return SocketError.Success;
        }

        return ((delegate*<string, bool, AddressFamily, out string?, out string[], out IPAddress[], out int, SocketError>)s_original)(
            name, justAddresses, family, out hostName, out aliases, out addresses, out nativeErrorCode);
    }

    private static bool ShouldAskPod(string name) =>
        !string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)
        && !name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        && !(s_unknownInPod.TryGetValue(name, out var until) && until > DateTime.UtcNow);

    private static ResolveResponse? Resolve(RemoteCalls remote, string name, AddressFamily family)
    {
        var filter = family switch
        {
            AddressFamily.InterNetwork => AddressFamilyFilter.IPv4,
            AddressFamily.InterNetworkV6 => AddressFamilyFilter.IPv6,
            _ => AddressFamilyFilter.Any,
        };
        try
        {
            return remote.Run(ct => remote.Agent.ResolveAsync(name, filter, ct), $"resolve {name}");
        }
        catch (RemoteException ex) when (ex.Code is ErrorCode.NameNotFound or ErrorCode.NameResolutionFailed or ErrorCode.InvalidArgument)
        {
            s_unknownInPod[name] = DateTime.UtcNow + UnknownNameMemory;
            return null;
        }
        catch (IOException)
        {
            // The session is gone: names keep resolving locally, so the app's local work goes on.
            return null;
        }
    }
}
