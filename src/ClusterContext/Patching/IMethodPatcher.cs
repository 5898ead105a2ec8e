using System.Reflection;

namespace ClusterContext.Patching;

/// <summary>
/// Replaces methods in the running process. This is the whole surface the hooks depend on, so that another engine
/// can take its place in one file.
/// </summary>
public interface IMethodPatcher
{
    /// <summary>
    /// Makes every call of <paramref name="target"/> run <paramref name="replacement"/>: a static method with the
    /// same parameters (instance targets get <c>this</c> first, by <c>ref</c> for value types) and return type. The
    /// replacement calls the original through <see cref="PatchHandle.Original"/>. Throws <see cref="PatchException"/>
    /// naming the method and the reason when it cannot patch; it never leaves a partial patch.
    /// </summary>
    PatchHandle Patch(MethodBase target, MethodInfo replacement, string owner);

    /// <summary>Removes one patch; calls run the original code again.</summary>
    void Remove(PatchHandle patch);

    /// <summary>Removes every patch of <paramref name="owner"/>; returns how many.</summary>
    int RemoveAll(string owner);

    /// <summary>The patches in place now.</summary>
    IReadOnlyList<PatchHandle> Patches { get; }
}
