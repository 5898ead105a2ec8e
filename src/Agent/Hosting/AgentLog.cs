using System.Net;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Hosting;

internal static partial class AgentLog
{
    [LoggerMessage(1, LogLevel.Information, "clusterctx-agent {Version} listening on {EndPoint}, serving process {Pid}", EventName = "Listening")]
    public static partial void Listening(ILogger logger, EndPoint endPoint, int pid, string version);

    [LoggerMessage(2, LogLevel.Critical, "Cannot listen on {EndPoint}: {Reason}", EventName = "ListenFailed")]
    public static partial void ListenFailed(ILogger logger, IPEndPoint endPoint, string reason);

    [LoggerMessage(3, LogLevel.Information, "session {Session} started from {Remote} ({Client})", EventName = "SessionStarted")]
    public static partial void SessionStarted(ILogger logger, string session, string remote, string client);

    [LoggerMessage(4, LogLevel.Information, "session {Session} from {Remote} ended after {Seconds:0.0} s: {Reason}", EventName = "SessionEnded")]
    public static partial void SessionEnded(ILogger logger, string session, string remote, double seconds, string reason);

    [LoggerMessage(5, LogLevel.Warning, "rejected connection from {Remote}: {Reason}", EventName = "Rejected")]
    public static partial void Rejected(ILogger logger, string remote, string reason);

    [LoggerMessage(6, LogLevel.Information, "no session for {Seconds} s; exiting", EventName = "IdleExit")]
    public static partial void IdleExit(ILogger logger, double seconds);

    [LoggerMessage(7, LogLevel.Warning, "listening on {EndPoint} without a token: anyone who can reach this address may open a session as this pod; give --token or --token-sha256, or listen on 127.0.0.1 and reach it by a port-forward", EventName = "Unprotected")]
    public static partial void Unprotected(ILogger logger, EndPoint endPoint);
}
