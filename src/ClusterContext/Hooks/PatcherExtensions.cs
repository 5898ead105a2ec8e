using ClusterContext.Patching;

namespace ClusterContext.Hooks;

internal static class PatcherExtensions
{
    /// <summary>Whether <paramref name="owner"/>'s patches are in place (a hook set patched ahead of its session, say).</summary>
    public static bool Owns(this IMethodPatcher patcher, string owner) => patcher.Patches.Any(p => p.Owner == owner);
}
