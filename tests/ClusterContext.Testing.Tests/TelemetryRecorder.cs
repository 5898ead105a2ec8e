using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ClusterContext.Testing.Tests;

/// <summary>Listens to the "ClusterContext" ActivitySource from the process's start, before any session starts.</summary>
internal static class TelemetryRecorder
{
    public static readonly ConcurrentQueue<Activity> Activities = new();

    [ModuleInitializer]
    internal static void Start() => ActivitySource.AddActivityListener(new ActivityListener
    {
        ShouldListenTo = source => source.Name == "ClusterContext",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        ActivityStopped = Activities.Enqueue,
    });
}
