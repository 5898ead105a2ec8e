namespace ClusterContext.Patching.Internal;

/// <summary>What the JIT hook did with a body it saw leave the JIT (see <see cref="CompileLog"/>).</summary>
internal enum CompiledBodyState
{
    /// <summary>The hook has recorded the body and is looking the method up.</summary>
    Deciding = 1,

    /// <summary>The method is patched: the jump went into the body before the runtime copied it into place.</summary>
    Patched = 2,

    /// <summary>The method was not patched; the body's start as the JIT wrote it is kept.</summary>
    Unpatched = 3,

    /// <summary>Not patched, and the JIT's buffer was not known (its start is not kept).</summary>
    UnpatchedNoCopy = 4,

    /// <summary>An on-stack-replacement body: entered mid-loop, never at its start; it carries no jump.</summary>
    Ignored = 5,
}
