using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Coordination;

internal static partial class CoordinationLog
{
    [LoggerMessage(420, LogLevel.Information, "incoming coordination: leading the pod's incoming traffic on @{Name}", EventName = "Leading")]
    public static partial void Leading(ILogger logger, string name);

    [LoggerMessage(421, LogLevel.Information, "incoming coordination: another agent leads on @{Name}; {Session} subscribes port {Port} through it", EventName = "Following")]
    public static partial void Following(ILogger logger, string name, string session, ushort port);

    [LoggerMessage(422, LogLevel.Warning, "incoming coordination: the leading agent is gone; taking over or following the new leader", EventName = "LeaderLost")]
    public static partial void LeaderLost(ILogger logger);

    [LoggerMessage(423, LogLevel.Information, "incoming coordination: {Role} after {Milliseconds:F0} ms, {Count} subscriptions of this agent's sessions made again", EventName = "Rejoined")]
    public static partial void Rejoined(ILogger logger, string role, double milliseconds, int count);

    [LoggerMessage(424, LogLevel.Warning, "incoming coordination: {Session}'s subscription to port {Port} could not be made again: {Reason}", EventName = "ResubscribeFailed")]
    public static partial void ResubscribeFailed(ILogger logger, string session, ushort port, string reason);

    [LoggerMessage(425, LogLevel.Information, "incoming coordination: {Session} joined through the coordination socket", EventName = "FollowerJoined")]
    public static partial void FollowerJoined(ILogger logger, string session);

    [LoggerMessage(426, LogLevel.Information, "incoming coordination: {Session} left ({Reason})", EventName = "FollowerLeft")]
    public static partial void FollowerLeft(ILogger logger, string session, string reason);

    [LoggerMessage(427, LogLevel.Warning, "incoming coordination: refused a link from a peer: {Reason}", EventName = "LinkRefused")]
    public static partial void LinkRefused(ILogger logger, string reason);

    [LoggerMessage(428, LogLevel.Information, "incoming coordination: steals go to the pod's app until the followers have made their claims again ({QuietMs} ms after the last, {LongestMs} ms at most)", EventName = "HoldingSteals")]
    public static partial void HoldingSteals(ILogger logger, int quietMs, int longestMs);
}
