using Iced.Intel;

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
        var reader = new MemoryReader(body, length, start);
        var decoder = Decoder.Create(64, reader, (ulong)body);
        var decoded = 0;
        while (pending.Count > 0 && decoded < MaxInstructions)
        {
            var offset = pending.Pop();
            while (offset >= 0 && offset < length && seen.Add(offset) && decoded++ < MaxInstructions)
            {
                reader.Position = offset;
                decoder.IP = (ulong)(body + offset);
                decoder.Decode(out var instruction);
                if (instruction.IsInvalid)
                {
                    break;
                }

                var next = offset + instruction.Length;
                var flow = instruction.FlowControl;
                if (flow is FlowControl.ConditionalBranch or FlowControl.UnconditionalBranch or FlowControl.Call
                    && instruction.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64)
                {
                    var target = (long)instruction.NearBranchTarget - body;
                    if (target >= 0 && target < limit && (lowest < 0 || target < lowest))
                    {
                        lowest = (int)target;
                    }

                    if (flow != FlowControl.Call && target >= 0 && target < length)
                    {
                        pending.Push((int)target);
                    }
                }

                if (flow is FlowControl.Return or FlowControl.UnconditionalBranch or FlowControl.IndirectBranch or FlowControl.Interrupt or FlowControl.Exception)
                {
                    break;
                }

                offset = next;
            }
        }

        return lowest;
    }

    /// <summary>Reads the body where it runs, its first bytes from the copy, never past its end.</summary>
    private sealed class MemoryReader(nint body, int length, byte[] start) : CodeReader
    {
        public int Position { get; set; }

        public override int ReadByte()
        {
            if (Position >= length)
            {
                return -1;
            }

            var offset = Position++;
            return offset < start.Length ? start[offset] : *(byte*)(body + offset);
        }
    }
}
