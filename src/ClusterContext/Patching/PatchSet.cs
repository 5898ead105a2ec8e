using System.Reflection;

namespace ClusterContext.Patching;

/// <summary>
/// One owner's patches for <see cref="IMethodPatcher.Patch(IReadOnlyList{PatchSet})"/>: the methods and their
/// replacements, and what gets the handles before any call can reach a replacement.
/// </summary>
internal sealed record PatchSet(IReadOnlyList<(MethodBase Target, MethodInfo Replacement)> Patches, string Owner, Action<IReadOnlyList<PatchHandle>>? BeforeActivation = null);
