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

    [LoggerMessage(103, LogLevel.Debug, "name server {Server} did not answer {Type} {Name} within {Seconds} s", EventName = "DnsServerTimedOut")]
    public static partial void ServerTimedOut(ILogger logger, IPEndPoint server, DnsRecordType type, string name, int seconds);

    [LoggerMessage(104, LogLevel.Debug, "name server {Server} failed for {Type} {Name}", EventName = "DnsServerFailed")]
    public static partial void ServerFailed(ILogger logger, IPEndPoint server, DnsRecordType type, string name, Exception exception);

    [LoggerMessage(105, LogLevel.Debug, "name server {Server} answered {Type} {Name} with {ResponseCode}; asking the next", EventName = "DnsServerRefused")]
    public static partial void ServerRefused(ILogger logger, IPEndPoint server, DnsRecordType type, string name, DnsResponseCode responseCode);

    [LoggerMessage(106, LogLevel.Debug, "name server {Server} truncated {Type} {Name} over UDP; asking again over TCP", EventName = "DnsTruncated")]
    public static partial void Truncated(ILogger logger, IPEndPoint server, DnsRecordType type, string name);
}
