using System.Reflection;

namespace ClusterContext.Patching;

/// <summary>One method replaced by <see cref="IMethodPatcher.Patch(System.Reflection.MethodBase, System.Reflection.MethodInfo, string)"/>.</summary>
internal sealed class PatchHandle
{
    internal PatchHandle(MethodBase target, MethodInfo replacement, string owner, nint original)
    {
        Target = target;
        Replacement = replacement;
        Owner = owner;
        Original = original;
    }

    /// <summary>The patched method.</summary>
    public MethodBase Target { get; }

    /// <summary>The method that runs instead.</summary>
    public MethodInfo Replacement { get; }

    /// <summary>Who installed the patch; <see cref="IMethodPatcher.RemoveAll"/> removes by owner.</summary>
    public string Owner { get; }

    /// <summary>
    /// Entry point of the original code, with the target's own calling convention: call it as a managed function
    /// pointer of the replacement's signature, e.g. <c>((delegate*&lt;string, bool&gt;)patch.Original)(path)</c>.
    /// It stays valid, and keeps following the method's newest compiled code, while the patch is in place.
    /// </summary>
    public nint Original { get; }

    /// <summary>true until the patch is removed.</summary>
    public bool IsActive { get; internal set; } = true;

    /// <inheritdoc/>
    public override string ToString() => $"{Target.DeclaringType}.{Target.Name} -> {Replacement.DeclaringType}.{Replacement.Name} ({Owner})";
}
