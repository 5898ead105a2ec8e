using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Protocol;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Protocol error ({Code}): {Message}; closing the connection.", EventName = "ProtocolError")]
    public static partial void ProtocolError(ILogger logger, ErrorCode code, string message);

    [LoggerMessage(2, LogLevel.Error, "Handling {Kind} failed.", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, MessageKind kind, Exception exception);
}
