using System.Net;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Http2;

internal static partial class Http2Log
{
    [LoggerMessage(430, LogLevel.Information, "incoming port {Port}: HTTP/2 connection from {Client}, routed stream by stream", EventName = "Http2Connection")]
    public static partial void Accepted(ILogger logger, ushort port, IPEndPoint client);

    [LoggerMessage(431, LogLevel.Debug, "HTTP/2 connection to {Peer} ended: {Reason}", EventName = "Http2ConnectionEnded")]
    public static partial void ConnectionEnded(ILogger logger, string peer, string reason);

    [LoggerMessage(434, LogLevel.Warning, "HTTP/2 connection to {Peer} broke the protocol: {Reason}", EventName = "Http2ProtocolError")]
    public static partial void ProtocolError(ILogger logger, string peer, string reason);

    [LoggerMessage(435, LogLevel.Information, "HTTP/2 connection to {Peer}: GOAWAY {Code} received{Detail}", EventName = "Http2GoAway")]
    public static partial void GoAwayReceived(ILogger logger, string peer, Http2ErrorCode code, string detail);

    [LoggerMessage(432, LogLevel.Debug, "incoming port {Port}: HTTP/2 stream {Stream} {Method} {Path} goes to {Target}", EventName = "Http2Stream")]
    public static partial void Routed(ILogger logger, ushort port, int stream, string method, string path, string target);

    [LoggerMessage(433, LogLevel.Warning, "incoming port {Port}: HTTP/2 stream {Stream} answered 502: {Reason}", EventName = "Http2BadGateway")]
    public static partial void BadGateway(ILogger logger, ushort port, int stream, string reason);
}
