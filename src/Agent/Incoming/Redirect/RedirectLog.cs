using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Redirect;

internal static partial class RedirectLog
{
    [LoggerMessage(1101, LogLevel.Information, "nftables table inet {Table} created (owned by the agent's netlink socket, nat chains at priority {Priority})", EventName = "RedirectTableCreated")]
    public static partial void TableCreated(ILogger logger, string table, int priority);

    [LoggerMessage(1102, LogLevel.Information, "new connections to pod port {PodPort} go to the agent's port {ListenerPort} ({Table})", EventName = "PortRedirected")]
    public static partial void Redirected(ILogger logger, string table, ushort podPort, ushort listenerPort);

    [LoggerMessage(1103, LogLevel.Information, "new connections to pod port {PodPort} reach the app again ({Table})", EventName = "PortRedirectRemoved")]
    public static partial void Removed(ILogger logger, string table, ushort podPort);

    [LoggerMessage(1104, LogLevel.Information, "nftables table inet {Table} released: the kernel removed it with every redirect", EventName = "RedirectTableReleased")]
    public static partial void TableReleased(ILogger logger, string table);
}
