namespace ClusterContext.Patching.Internal;

/// <summary>
/// Finds where a body's own branches land among its first bytes. A jump written over instructions that a loop
/// branches back to would be entered mid-way by every thread running that loop, and by the original when it is
/// called through a trampoline (the trampoline resumes after the patched bytes; the loop's back edge lands inside
/// them). Optimized code of a method without a frame can put a loop head a few bytes in: <c>xor eax, eax;
/// test edi, edi; jle; loop: ...; jl loop</c>.
/// </summary>
internal static unsafe class InnerBranches
{
    /// <summary>How far a walk follows a body whose length is not known; far beyond the bodies patched in practice.</summary>
    private const int UnknownLengthLimit = 64 * 1024;

    private const int MaxInstructions = 20_000;

    /// <summary>
    /// The lowest offset below <paramref name="limit"/> that a branch of the body at <paramref name="body"/> targets,
    /// or -1 when none does. Cheap when the body opens with a frame set-up at least <paramref name="limit"/> bytes long
    /// (no branch lands inside a prologue); otherwise every instruction reachable from the entry is decoded.
    /// <paramref name="length"/> is the body's length, 0 when not known; <paramref name="start"/> holds its first bytes
    /// as the JIT made them (a body this engine patched already starts with a jump).
    /// </summary>
    public static int LowestTarget(nint body, int length, byte[] start, int limit)
    {
        if (PrologueCopier.FrameSetupLength(start) >= limit)
        {
            return -1;
        }

        return Walk(body, length > 0 ? length : UnknownLengthLimit, start, limit);
    }

    /// <summary>Decodes every instruction reachable from the entry, following branches; returns the lowest target found below <paramref name="limit"/>.</summary>
    private static int Walk(nint body, int length, byte[] start, int limit)
    {
        var lowest = -1;
        var pending = new Stack<int>();
        var seen = new HashSet<int>();
        pending.Push(0);
        var decoded = 0;
        Span<byte> window = stackalloc byte[MaxInstructionLength];
        while (pending.Count > 0 && decoded < MaxInstructions)
        {
            var offset = pending.Pop();
            while (offset >= 0 && offset < length && seen.Add(offset) && decoded++ < MaxInstructions)
            {
                if (!X64Decoder.TryDecode(Read(body, length, start, offset, window), out var instruction))
                {
                    break;
                }

                var next = offset + instruction.Length;
                if (instruction.IsRelativeBranch)
                {
                    var target = (long)next + instruction.Branch;
                    if (target >= 0 && target < limit && (lowest < 0 || target < lowest))
                    {
                        lowest = (int)target;
                    }

                    if (instruction.Flow != X64Flow.Call && target >= 0 && target < length)
                    {
                        pending.Push((int)target);
                    }
                }

                if (instruction.Flow is X64Flow.Return or X64Flow.UnconditionalBranch or X64Flow.IndirectBranch or X64Flow.Interrupt or X64Flow.Exception)
                {
                    break;
                }

                offset = next;
            }
        }

        return lowest;
    }

    private const int MaxInstructionLength = 15;

    /// <summary>The bytes at <paramref name="offset"/>, at most one instruction's worth: the body's first bytes from the copy, the rest where it runs, never past its end.</summary>
    private static ReadOnlySpan<byte> Read(nint body, int length, byte[] start, int offset, Span<byte> window)
    {
        var count = Math.Min(window.Length, length - offset);
        for (var i = 0; i < count; i++)
        {
            var at = offset + i;
            window[i] = at < start.Length ? start[at] : *(byte*)(body + at);
        }

        return window[..count];
    }
}
