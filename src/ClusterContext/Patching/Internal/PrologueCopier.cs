namespace ClusterContext.Patching.Internal;

/// <summary>
/// Finds the instruction boundaries of a method's first bytes for the common case, a plain prologue (pushes, stack
/// adjustment, frame set-up, register moves and zeroing of locals), so that they can be copied as they are. Anything
/// else (RIP-relative operands, relative branches, opcodes not listed here) answers "cannot", and the general
/// relocator takes over. This keeps the full instruction encoder out of the common path: its tables cost tens of
/// milliseconds to initialise, which every application would pay at start-up.
/// </summary>
internal static class PrologueCopier
{
    /// <summary>The length of the whole instructions covering at least <paramref name="minimum"/> bytes, or 0 when they cannot be copied verbatim.</summary>
    public static int CoveredLength(ReadOnlySpan<byte> code, int minimum)
    {
        var offset = 0;
        while (offset < minimum)
        {
            var length = InstructionLength(code[offset..]);
            if (length <= 0)
            {
                return 0;
            }

            offset += length;
        }

        return offset;
    }

    /// <summary>
    /// The length of the leading instructions that only set up a frame (pushes of registers, <c>mov rbp, rsp</c>,
    /// <c>sub rsp, n</c>, <c>lea rbp, [rsp+n]</c>, <c>vzeroupper</c>). They run once, on entry: no branch of the
    /// method lands among them.
    /// </summary>
    public static int FrameSetupLength(ReadOnlySpan<byte> code)
    {
        var offset = 0;
        while (offset < code.Length)
        {
            var length = FrameSetupInstruction(code[offset..]);
            if (length == 0)
            {
                break;
            }

            offset += length;
        }

        return offset;
    }

    private static int FrameSetupInstruction(ReadOnlySpan<byte> code) => code switch
    {
        [>= 0x50 and <= 0x57, ..] => 1,
        [0x41, >= 0x50 and <= 0x57, ..] => 2,
        [0x48, 0x89, 0xE5, ..] or [0x48, 0x8B, 0xEC, ..] => 3,
        [0x48, 0x83, 0xEC, _, ..] => 4,
        [0x48, 0x81, 0xEC, _, _, _, _, ..] => 7,
        [0x48, 0x8D, 0x6C, 0x24, _, ..] => 5,
        [0x48, 0x8D, 0xAC, 0x24, _, _, _, _, ..] => 8,
        [0xC5, 0xF8, 0x77, ..] => 3,
        _ => 0,
    };

    /// <summary>Length of one position-independent instruction, or 0 when it is not one this copier knows.</summary>
    private static int InstructionLength(ReadOnlySpan<byte> code)
    {
        var i = 0;
        var operandSize16 = false;
        while (i < code.Length && code[i] is 0x66 or 0xF2 or 0xF3)
        {
            operandSize16 |= code[i] == 0x66;
            i++;
        }

        var rexW = false;
        if (i < code.Length && code[i] is >= 0x40 and <= 0x4F)
        {
            rexW = (code[i] & 0x08) != 0;
            i++;
        }

        if (i >= code.Length)
        {
            return 0;
        }

        var opcode = code[i++];
        switch (opcode)
        {
            case >= 0x50 and <= 0x5F:
            case 0x90:
                return i;
            case 0x01 or 0x03 or 0x09 or 0x0B or 0x21 or 0x23 or 0x29 or 0x2B or 0x31 or 0x33 or 0x39 or 0x3B or 0x85
                or 0x88 or 0x89 or 0x8A or 0x8B or 0x8D:
                return WithModRm(code, i, immediate: 0);
            case 0x83:
            case 0xC6:
                return WithModRm(code, i, immediate: 1);
            case 0x81:
            case 0xC7:
                return WithModRm(code, i, immediate: operandSize16 ? 2 : 4);
            case >= 0xB8 and <= 0xBF:
                return i + (rexW ? 8 : operandSize16 ? 2 : 4);
            case 0x0F:
                return TwoByte(code, i);
            case 0xC5:
                // Two-byte VEX: C5, one payload byte, then an opcode of map 0F.
                return i + 1 < code.Length ? VexOpcode(code, i + 1) : 0;
            case 0xC4:
                // Three-byte VEX: only map 0F (mmmmm = 1) is common in prologues.
                return i + 2 < code.Length && (code[i] & 0x1F) == 1 ? VexOpcode(code, i + 2) : 0;
            default:
                return 0;
        }
    }

    private static int TwoByte(ReadOnlySpan<byte> code, int i)
    {
        if (i >= code.Length)
        {
            return 0;
        }

        return code[i] switch
        {
            0x1F or 0x10 or 0x11 or 0x28 or 0x29 or 0x57 or 0xEF or 0x6F or 0x7F or 0xD6 or 0xB6 or 0xB7 or 0xBE or 0xBF => WithModRm(code, i + 1, immediate: 0),
            _ => 0,
        };
    }

    private static int VexOpcode(ReadOnlySpan<byte> code, int i)
    {
        if (i >= code.Length)
        {
            return 0;
        }

        return code[i] switch
        {
            0x77 => i + 1,
            0x10 or 0x11 or 0x28 or 0x29 or 0x57 or 0xEF or 0x6F or 0x7F or 0xD6 => WithModRm(code, i + 1, immediate: 0),
            _ => 0,
        };
    }

    private static int WithModRm(ReadOnlySpan<byte> code, int i, int immediate)
    {
        if (i >= code.Length)
        {
            return 0;
        }

        var modRm = code[i++];
        var mod = modRm >> 6;
        var rm = modRm & 7;
        if (mod == 3)
        {
            return i + immediate;
        }

        if (rm == 4)
        {
            if (i >= code.Length)
            {
                return 0;
            }

            var sib = code[i++];
            if (mod == 0 && (sib & 7) == 5)
            {
                return i + 4 + immediate;
            }
        }
        else if (mod == 0 && rm == 5)
        {
            // RIP-relative: its target moves with the copy.
            return 0;
        }

        return i + (mod == 1 ? 1 : mod == 2 ? 4 : 0) + immediate;
    }
}
