using System.Reflection;

namespace ClusterContext.Patching;

/// <summary>
/// Replaces methods in the running process. This is the whole surface the hooks depend on, so that another engine
/// can take its place in one file.
/// </summary>
internal interface IMethodPatcher
{
    /// <summary>
    /// Makes every call of <paramref name="target"/> run <paramref name="replacement"/>: a static method with the
    /// same parameters (instance targets get <c>this</c> first, by <c>ref</c> for value types) and return type. The
    /// replacement calls the original through <see cref="PatchHandle.Original"/>. Throws <see cref="PatchException"/>
    /// naming the method and the reason when it cannot patch; it never leaves a partial patch.
    /// </summary>
    PatchHandle Patch(MethodBase target, MethodInfo replacement, string owner);

    /// <summary>
    /// Patches several methods in one install, as <see cref="Patch(MethodBase, MethodInfo, string)"/> does each: the
    /// wait for running threads to be clear of the targets' first instructions is made once for all of them. Every
    /// call that starts after it returns reaches the replacements. <paramref name="beforeActivation"/> gets the
    /// handles before any call can reach a replacement: a replacement of a method other threads may be calling reads
    /// its <see cref="PatchHandle.Original"/> from where this callback stored it.
    /// </summary>
    IReadOnlyList<PatchHandle> Patch(IReadOnlyList<(MethodBase Target, MethodInfo Replacement)> patches, string owner, Action<IReadOnlyList<PatchHandle>>? beforeActivation = null);

    /// <summary>
    /// Patches the sets of several owners in one install, as one <see cref="Patch(IReadOnlyList{ValueTuple{MethodBase, MethodInfo}}, string, Action{IReadOnlyList{PatchHandle}})"/>
    /// per set would, with the waits (for compilations under way, for threads to be clear of first instructions) made
    /// once for all: the start of a process patches every hook set this way. All or nothing; the handles, set by set.
    /// </summary>
    IReadOnlyList<IReadOnlyList<PatchHandle>> Patch(IReadOnlyList<PatchSet> sets);

    /// <summary>
    /// Prepares to patch <paramref name="targets"/> later, as early in the process as possible: from now on no newly
    /// compiled method inlines them (a copy inlined into a caller is out of reach of any patch), and compilations
    /// already under way are waited out by the next install. Callers compiled before this keep what they inlined.
    /// </summary>
    void Reserve(IEnumerable<MethodBase> targets);

    /// <summary>Removes one patch; calls run the original code again.</summary>
    void Remove(PatchHandle patch);

    /// <summary>Removes every patch of <paramref name="owner"/>; returns how many.</summary>
    int RemoveAll(string owner);

    /// <summary>The patches in place now.</summary>
    IReadOnlyList<PatchHandle> Patches { get; }
}
