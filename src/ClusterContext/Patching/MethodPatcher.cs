using ClusterContext.Patching.Internal;

namespace ClusterContext.Patching;

/// <summary>The process's method patcher. Patches are process-global state: share this one instance.</summary>
internal static class MethodPatcher
{
    private static readonly Lazy<IMethodPatcher> Instance = new(() => new DetourEngine());

    /// <summary>The engine for this process.</summary>
    public static IMethodPatcher Shared => Instance.Value;
}
