using Microsoft.Extensions.Logging;

namespace ClusterContext;

internal static partial class SessionLog
{
    [LoggerMessage(1, LogLevel.Information, "Running in the pod's context through the agent at {Address} (target process {Pid}): {Variables} environment variables imported; remote paths: {Paths}", EventName = "Started")]
    public static partial void Started(ILogger logger, string address, int pid, int variables, string paths);

    [LoggerMessage(2, LogLevel.Warning, "{Message} Running locally (required is false).", EventName = "RunningLocally")]
    public static partial void RunningLocally(ILogger logger, string message);

    [LoggerMessage(3, LogLevel.Warning, "{Message}", EventName = "WriteRefused")]
    public static partial void WriteRefused(ILogger logger, string message);

    [LoggerMessage(4, LogLevel.Information, "{Message}", EventName = "Progress")]
    public static partial void Progress(ILogger logger, string message);

    [LoggerMessage(5, LogLevel.Warning, "{Message}", EventName = "Reconnect")]
    public static partial void Reconnect(ILogger logger, string message);

    [LoggerMessage(6, LogLevel.Warning, "{Message}", EventName = "Incoming")]
    public static partial void Incoming(ILogger logger, string message);
}
