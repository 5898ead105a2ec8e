using Microsoft.Extensions.Logging;

namespace ClusterContext.AspNetCore.Internal;

internal static partial class HostingLog
{
    [LoggerMessage(101, LogLevel.Information, "ClusterContext is off: {Reason} To run in the pod's context, set ClusterContext:enabled to true (appsettings.{Environment}.json, or ClusterContext__enabled=true).", EventName = "Off")]
    public static partial void Off(ILogger logger, string reason, string environment);

    [LoggerMessage(102, LogLevel.Information, "Joined the session {Owner} ({Target}); its options stand, the ClusterContext configuration section is not read.", EventName = "Joined")]
    public static partial void Joined(ILogger logger, string owner, string target);

    [LoggerMessage(103, LogLevel.Information, "The pod's {Count} environment variables are in IConfiguration, over appsettings*.json and this machine's variables, under the command line.", EventName = "Configuration")]
    public static partial void Configuration(ILogger logger, int count);

    [LoggerMessage(104, LogLevel.Warning, "Ending the ClusterContext session failed: {Message}", EventName = "StopFailed")]
    public static partial void StopFailed(ILogger logger, string message);
}
