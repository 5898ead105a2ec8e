using System.Net;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Dns;

internal static partial class DnsLog
{
    [LoggerMessage(101, LogLevel.Debug, "resolved {Name} ({Family}) as {QueriedName}: {Count} addresses", EventName = "DnsResolved")]
    public static partial void Resolved(ILogger logger, string name, AddressFamilyFilter family, string queriedName, int count);

    [LoggerMessage(102, LogLevel.Debug, "could not resolve {Name} ({Family}): {Reason}", EventName = "DnsResolveFailed")]
    public static partial void ResolveFailed(ILogger logger, string name, AddressFamilyFilter family, string reason);

    [LoggerMessage(105, LogLevel.Debug, "name server {Server} gave no usable answer for {Name} (first response {ResponseCode}); asking the next", EventName = "DnsServerGaveNoAnswer")]
    public static partial void ServerGaveNoAnswer(ILogger logger, IPEndPoint server, string name, DnsResponseCode? responseCode);

    [LoggerMessage(106, LogLevel.Debug, "name server {Server} truncated its answer for {Name} over UDP; asking again over TCP", EventName = "DnsTruncated")]
    public static partial void Truncated(ILogger logger, IPEndPoint server, string name);
}
