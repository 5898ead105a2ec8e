using System.Net;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming;

internal static partial class IncomingLog
{
    [LoggerMessage(400, LogLevel.Information, "incoming port {Port}: {Mode} by {Session} ({Scope}), listener port {ListenerPort}", EventName = "Subscribed")]
    public static partial void Subscribed(ILogger logger, ushort port, IncomingMode mode, string session, string scope, ushort listenerPort);

    [LoggerMessage(401, LogLevel.Information, "incoming port {Port}: {Session} unsubscribed", EventName = "Unsubscribed")]
    public static partial void Unsubscribed(ILogger logger, ushort port, string session);

    [LoggerMessage(402, LogLevel.Information, "incoming port {Port}: no subscription left; redirect removed, its listener closes once what the redirect sent it is in", EventName = "PortClosed")]
    public static partial void PortClosed(ILogger logger, ushort port);

    [LoggerMessage(403, LogLevel.Warning, "incoming port {Port}: {Notice}", EventName = "Overlap")]
    public static partial void Overlap(ILogger logger, ushort port, string notice);

    [LoggerMessage(404, LogLevel.Warning, "a mirrored copy was dropped: {Reason} ({Total} dropped so far)", EventName = "CopyDropped")]
    public static partial void CopyDropped(ILogger logger, string reason, long total);

    [LoggerMessage(405, LogLevel.Warning, "cannot mark the agent's connections to the app with 0x{Mark:x} (SO_MARK needs CAP_NET_ADMIN): a redirect of loopback traffic would send them back to the agent", EventName = "MarkRefused")]
    public static partial void MarkRefused(ILogger logger, uint mark);

    [LoggerMessage(406, LogLevel.Debug, "incoming port {Port}: connection from {Client} ended: {Reason}", EventName = "ConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, ushort port, IPEndPoint client, string reason);

    [LoggerMessage(407, LogLevel.Information, "incoming port {Port}: connection from {Client} goes to the app untouched: {What}", EventName = "NotHttp")]
    public static partial void NotHttp(ILogger logger, ushort port, IPEndPoint client, string what);

    [LoggerMessage(408, LogLevel.Warning, "incoming port {Port}: {Session} is unavailable ({Reason}); the original app serves instead", EventName = "SessionUnavailable")]
    public static partial void SessionUnavailable(ILogger logger, ushort port, string session, string reason);

    [LoggerMessage(409, LogLevel.Warning, "incoming port {Port}: answered 502 to {Client}: {Reason}", EventName = "BadResponse")]
    public static partial void BadResponse(ILogger logger, ushort port, IPEndPoint client, string reason);

    [LoggerMessage(410, LogLevel.Warning, "no port redirector in this agent: incoming listeners are reachable only at their own ports", EventName = "NoRedirector")]
    public static partial void NoRedirector(ILogger logger);
}
