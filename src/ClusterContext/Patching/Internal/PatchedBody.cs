namespace ClusterContext.Patching.Internal;

/// <summary>One compiled body of a patched method and what was written over its start.</summary>
internal sealed class PatchedBody(nint address, byte[] originalBytes, int patchLength)
{
    /// <summary>Where the body runs (its read-execute address).</summary>
    public nint Address { get; } = address;

    /// <summary>The body's first bytes before the patch (<see cref="X64.SavedPrologueLength"/> of them).</summary>
    public byte[] OriginalBytes { get; } = originalBytes;

    /// <summary>How many bytes the patch wrote.</summary>
    public int PatchLength { get; } = patchLength;

    /// <summary>Set once the original bytes are back.</summary>
    public bool Restored { get; set; }
}
