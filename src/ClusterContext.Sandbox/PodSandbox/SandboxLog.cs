using Microsoft.Extensions.Logging;

namespace ClusterContext.Testing.Sandbox;

internal static partial class SandboxLog
{
    [LoggerMessage(1, LogLevel.Debug, "Pod sandbox {Index} claimed: namespaces {PodNamespace} and {ServicesNamespace}", EventName = "Claimed")]
    public static partial void Claimed(ILogger logger, int index, string podNamespace, string servicesNamespace);

    [LoggerMessage(2, LogLevel.Information, "Pod sandbox {Index} started in {ElapsedMilliseconds} ms: pod IP {PodIP}, app pid {AppPid}", EventName = "Started")]
    public static partial void Started(ILogger logger, int index, long elapsedMilliseconds, string podIP, int appPid);

    [LoggerMessage(3, LogLevel.Warning, "Pod sandbox {Index} failed to start at step '{Step}'; tearing down what was made (temp directory '{TempPath}')", EventName = "StartFailed")]
    public static partial void StartFailed(ILogger logger, int index, string step, string tempPath, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Pod sandbox {Index} was left by process {OwnerPid}, which is gone; removing it", EventName = "SweepingStale")]
    public static partial void SweepingStale(ILogger logger, int index, int ownerPid);

    [LoggerMessage(5, LogLevel.Warning, "Pod sandbox {Index} teardown: {Problem}", EventName = "TeardownProblem")]
    public static partial void TeardownProblem(ILogger logger, int index, string problem);

    [LoggerMessage(6, LogLevel.Information, "Pod sandbox {Index} disposed in {ElapsedMilliseconds} ms", EventName = "Disposed")]
    public static partial void Disposed(ILogger logger, int index, long elapsedMilliseconds);
}
