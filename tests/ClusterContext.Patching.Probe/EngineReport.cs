using ClusterContext.Patching.Internal;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// What the engine itself counted: bodies it could not patch as they were made, repairs its safety-net sweep had
/// to make, jumps written before every thread was seen clear, and how many bodies each patch covers (more than one
/// proves the runtime re-compiled the target while it was patched).
/// </summary>
internal static class EngineReport
{
    public static string Describe()
    {
        var bodies = ((DetourEngine)MethodPatcher.Shared).BodyCounts;
        return $"engine: missed_compilations={JitHook.MissedCompilations} sweep_repairs={DetourEngine.SweepRepairs} unsettled_writes={DetourEngine.UnsettledWrites} "
            + $"bodies={string.Join(",", bodies.Select(b => $"{b.Key[(b.Key.LastIndexOf('.') + 1)..]}:{b.Value}"))}";
    }

    /// <summary>Whether the engine's own counters show a window the design should have closed.</summary>
    public static bool Clean => JitHook.MissedCompilations == 0 && DetourEngine.SweepRepairs == 0 && DetourEngine.UnsettledWrites == 0;
}
