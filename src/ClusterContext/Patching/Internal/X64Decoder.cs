using System.Buffers.Binary;

namespace ClusterContext.Patching.Internal;

/// <summary>What an instruction does to the flow of control, as far as walking a body and relocating its first bytes need to know.</summary>
internal enum X64Flow : byte
{
    /// <summary>Falls through to the next instruction.</summary>
    Next,

    /// <summary>A conditional relative branch (<c>jcc</c>, <c>loop</c>, <c>jrcxz</c>).</summary>
    ConditionalBranch,

    /// <summary>A relative <c>jmp</c>.</summary>
    UnconditionalBranch,

    /// <summary>A relative <c>call</c>.</summary>
    Call,

    /// <summary>A call through a register or memory, or a far call; returns to the next instruction.</summary>
    IndirectCall,

    /// <summary>A jump through a register or memory, or a far jump.</summary>
    IndirectBranch,

    /// <summary><c>ret</c>, <c>retf</c>, <c>iret</c>, <c>sysret</c>, <c>sysexit</c>.</summary>
    Return,

    /// <summary><c>int3</c>, <c>int n</c>, <c>int1</c>.</summary>
    Interrupt,

    /// <summary>An instruction that always faults (<c>ud0</c>, <c>ud1</c>, <c>ud2</c>).</summary>
    Exception,
}

/// <summary>One decoded instruction: its length, its effect on the flow, where a relative branch goes, where a RIP-relative displacement sits.</summary>
/// <param name="Length">Its length in bytes.</param>
/// <param name="Flow">What it does to the flow of control.</param>
/// <param name="Branch">For a relative branch or call, its displacement from the end of the instruction; 0 otherwise.</param>
/// <param name="RipDisplacementOffset">For a RIP-relative memory operand, the offset of its 32-bit displacement in the instruction; -1 otherwise.</param>
/// <param name="Opcode">The opcode byte (for a two-byte opcode, 0x0F followed by it, as 0x0Fxx).</param>
internal readonly record struct X64Instruction(int Length, X64Flow Flow, int Branch, int RipDisplacementOffset, int Opcode)
{
    public bool IsRelativeBranch => Flow is X64Flow.ConditionalBranch or X64Flow.UnconditionalBranch or X64Flow.Call;
}

/// <summary>
/// A length decoder for 64-bit x86 code: legacy and REX prefixes, the one-byte, 0F, 0F38 and 0F3A maps, VEX, EVEX and
/// XOP. It tells where each instruction ends, whether it branches and where to, and where a RIP-relative displacement
/// is: all that walking a compiled body and relocating its first instructions need. It does not name instructions
/// or check that the CPU has them; what no CPU decodes in 64-bit mode is refused (<see cref="TryDecode"/> false).
/// Checked against a full disassembler on the code the JIT generates and on random bytes (X64DecoderTests).
/// </summary>
internal static class X64Decoder
{
    private const int MaxLength = 15;

    // One-byte map. Bit 0: has ModRM. Bits 1-3: immediate (Imm*). Bit 4: invalid in 64-bit mode.
    private const byte M = 0x01;
    private const byte I8 = 1 << 1;
    private const byte I16 = 2 << 1;
    private const byte Iz = 3 << 1;
    private const byte Iv = 4 << 1;
    private const byte I16I8 = 5 << 1;
    private const byte Moffs = 6 << 1;
    private const byte Bad = 0x10;

    private static ReadOnlySpan<byte> OneByte =>
    [
        // 0x00
        M, M, M, M, I8, Iz, Bad, Bad, M, M, M, M, I8, Iz, Bad, 0,
        // 0x10
        M, M, M, M, I8, Iz, Bad, Bad, M, M, M, M, I8, Iz, Bad, Bad,
        // 0x20
        M, M, M, M, I8, Iz, 0, Bad, M, M, M, M, I8, Iz, 0, Bad,
        // 0x30
        M, M, M, M, I8, Iz, 0, Bad, M, M, M, M, I8, Iz, 0, Bad,
        // 0x40 (REX, handled as prefixes)
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        // 0x50
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        // 0x60
        Bad, Bad, 0, M, 0, 0, 0, 0, Iz, M | Iz, I8, M | I8, 0, 0, 0, 0,
        // 0x70 (jcc rel8)
        I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8, I8,
        // 0x80
        M | I8, M | Iz, Bad, M | I8, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0x90
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Bad, 0, 0, 0, 0, 0,
        // 0xA0
        Moffs, Moffs, Moffs, Moffs, 0, 0, 0, 0, I8, Iz, 0, 0, 0, 0, 0, 0,
        // 0xB0
        I8, I8, I8, I8, I8, I8, I8, I8, Iv, Iv, Iv, Iv, Iv, Iv, Iv, Iv,
        // 0xC0
        M | I8, M | I8, I16, 0, 0, 0, M | I8, M | Iz, I16I8, 0, I16, 0, 0, I8, Bad, 0,
        // 0xD0
        M, M, M, M, Bad, Bad, Bad, 0, M, M, M, M, M, M, M, M,
        // 0xE0
        I8, I8, I8, I8, I8, I8, I8, I8, Iz, Iz, Bad, I8, 0, 0, 0, 0,
        // 0xF0
        0, 0, 0, 0, 0, 0, M, M, 0, 0, 0, 0, 0, 0, M, M,
    ];

    // Map 0F. Same bits.
    private static ReadOnlySpan<byte> TwoByte =>
    [
        // 0x00
        M, M, M, M, Bad, 0, 0, 0, 0, 0, Bad, 0, Bad, M, 0, M | I8,
        // 0x10
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0x20
        M, M, M, M, Bad, Bad, Bad, Bad, M, M, M, M, M, M, M, M,
        // 0x30
        0, 0, 0, 0, 0, 0, Bad, 0, 0, Bad, 0, Bad, Bad, Bad, Bad, Bad,
        // 0x40
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0x50
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0x60
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0x70
        M | I8, M | I8, M | I8, M | I8, M, M, M, 0, M, M, Bad, Bad, M, M, M, M,
        // 0x80 (jcc rel32)
        Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz, Iz,
        // 0x90
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0xA0
        0, 0, 0, M, M | I8, M, M, M, 0, 0, 0, M, M | I8, M, M, M,
        // 0xB0
        M, M, M, M, M, M, M, M, M, M, M | I8, M, M, M, M, M,
        // 0xC0
        M, M, M | I8, M, M | I8, M | I8, M | I8, M, 0, 0, 0, 0, 0, 0, 0, 0,
        // 0xD0
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0xE0
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
        // 0xF0
        M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    ];

    /// <summary>Decodes the instruction at the start of <paramref name="code"/>; false when it is not one (or does not fit).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> code, out X64Instruction instruction)
    {
        instruction = default;
        var i = 0;
        var operand16 = false;
        var address32 = false;
        var rex = 0;
        var mandatory = 0;
        while (true)
        {
            if (i >= code.Length || i >= MaxLength)
            {
                return false;
            }

            var b = code[i];
            if (b is 0x26 or 0x2E or 0x36 or 0x3E or 0x64 or 0x65 or 0xF0 or 0x66 or 0x67 or 0xF2 or 0xF3)
            {
                operand16 |= b == 0x66;
                address32 |= b == 0x67;
                mandatory = b is 0x66 or 0xF2 or 0xF3 ? b : mandatory;
                rex = 0; // A REX prefix counts only right before the opcode.
                i++;
            }
            else if (b is >= 0x40 and <= 0x4F)
            {
                rex = b;
                i++;
            }
            else
            {
                break;
            }
        }

        var opcode = code[i++];
        var rexW = (rex & 0x08) != 0;
        operand16 &= !rexW; // REX.W wins over 66.
        switch (opcode)
        {
            case 0x0F:
                return Escaped(code, i, mandatory, out instruction);
            case 0xC4 or 0xC5:
                return rex == 0 && mandatory == 0 && Vex(code, i, opcode == 0xC4, out instruction);
            case 0x62:
                return rex == 0 && mandatory == 0 && Evex(code, i, out instruction);
            case 0x8F when i < code.Length && (code[i] & 0x1F) >= 8:
                return rex == 0 && mandatory == 0 && Xop(code, i, out instruction);
            case 0xD5:
                // REX2 (APX) in 64-bit mode; AAD elsewhere. Neither is decoded here.
                return false;
        }

        var entry = OneByte[opcode];
        if ((entry & Bad) != 0)
        {
            return false;
        }

        var ripOffset = -1;
        var reg = 0;
        if ((entry & M) != 0)
        {
            if (!ModRm(code, ref i, out ripOffset, out reg))
            {
                return false;
            }
        }

        var immediate = ((entry >> 1) & 7) switch
        {
            1 => 1,
            2 => 2,
            3 => operand16 && opcode is not (0xE8 or 0xE9) ? 2 : 4,
            4 => rexW ? 8 : operand16 ? 2 : 4,
            5 => 3,
            6 => address32 ? 4 : 8,
            _ => 0,
        };

        var flow = X64Flow.Next;
        switch (opcode)
        {
            case 0xF6 when reg is 0 or 1:
                immediate = 1;
                break;
            case 0xF7 when reg is 0 or 1:
                immediate = operand16 ? 2 : 4;
                break;
            case 0xFF:
                flow = reg switch
                {
                    2 or 3 => X64Flow.IndirectCall,
                    4 or 5 => X64Flow.IndirectBranch,
                    _ => X64Flow.Next,
                };
                if (reg == 7 || (reg is 3 or 5 && ripOffset == -2))
                {
                    return false;
                }

                break;
            case 0xFE when reg > 1:
                return false;
            case 0x8F when reg != 0:
                return false;
            case 0xC6 when reg is not 0 and not 7:
            case 0xC7 when reg is not 0 and not 7:
                return false;
            case 0xC7 when reg == 7:
                // xbegin rel16/32: a branch to the abort handler.
                flow = X64Flow.ConditionalBranch;
                break;
            case 0xC6 when reg == 7:
                // xabort imm8 takes only the register form (C6 F8).
                if (code[i - 1] != 0xF8)
                {
                    return false;
                }

                break;
            case >= 0x70 and <= 0x7F or >= 0xE0 and <= 0xE3:
                flow = X64Flow.ConditionalBranch;
                break;
            case 0xE8:
                flow = X64Flow.Call;
                break;
            case 0xE9 or 0xEB:
                flow = X64Flow.UnconditionalBranch;
                break;
            case 0xC2 or 0xC3 or 0xCA or 0xCB or 0xCF:
                flow = X64Flow.Return;
                break;
            case 0xCC or 0xCD or 0xF1:
                flow = X64Flow.Interrupt;
                break;
        }

        if (ripOffset == -2)
        {
            // A register operand where only memory goes (lea, les-like forms, far indirect branches).
            if (opcode is 0x8D)
            {
                return false;
            }

            ripOffset = -1;
        }

        return Finish(code, i, immediate, flow, ripOffset, opcode, out instruction);
    }

    private static bool Escaped(ReadOnlySpan<byte> code, int i, int mandatory, out X64Instruction instruction)
    {
        instruction = default;
        if (i >= code.Length)
        {
            return false;
        }

        var opcode = code[i++];
        int ripOffset;
        switch (opcode)
        {
            case 0x38 or 0x3A:
            {
                if (i >= code.Length)
                {
                    return false;
                }

                i++;
                return ModRm(code, ref i, out ripOffset, out _) && Finish(code, i, opcode == 0x3A ? 1 : 0, X64Flow.Next, Memory(ripOffset), 0x0F00 | opcode, out instruction);
            }

            case 0x0F:
                // 3DNow!: ModRM, then the opcode as a trailing byte.
                return ModRm(code, ref i, out ripOffset, out _) && Finish(code, i, 1, X64Flow.Next, Memory(ripOffset), 0x0F0F, out instruction);
        }

        var entry = TwoByte[opcode];
        if ((entry & Bad) != 0)
        {
            return false;
        }

        if (opcode is >= 0x20 and <= 0x23)
        {
            // mov to and from control and debug registers: the ModRM byte names registers whatever its mod says.
            return Finish(code, i + 1, 0, X64Flow.Next, -1, 0x0F00 | opcode, out instruction);
        }

        var reg = 0;
        ripOffset = -1;
        var modRm = i < code.Length ? code[i] : 0;
        if ((entry & M) != 0 && !ModRm(code, ref i, out ripOffset, out reg))
        {
            return false;
        }

        var immediate = ((entry >> 1) & 7) switch
        {
            1 => 1,
            3 => 4,
            _ => 0,
        };

        var flow = X64Flow.Next;
        switch (opcode)
        {
            case >= 0x80 and <= 0x8F:
                flow = X64Flow.ConditionalBranch;
                break;
            case 0x0B or 0xB9 or 0xFF:
                flow = X64Flow.Exception;
                break;
            case 0x07 or 0x35 or 0xAA:
                flow = X64Flow.Return;
                break;
            case 0x05 or 0x34:
                flow = X64Flow.IndirectCall;
                break;
            case 0x01 when modRm is 0xC1 or 0xC2 or 0xC3 or 0xD8 or 0xD9 || (modRm is 0xCC or 0xCD or 0xCF && mandatory == 0x66):
                // vmcall, vmlaunch, vmresume, vmrun, vmmcall, tdcall, seamret, seamcall: the disassembler counts them indirect calls.
                flow = X64Flow.IndirectCall;
                break;
            case 0x01 when (modRm == 0xCA && mandatory is 0xF2 or 0xF3) || (modRm == 0xEC && mandatory == 0xF3):
                // erets, eretu, uiret.
                flow = X64Flow.Return;
                break;
            case 0x01 when modRm == 0xDE:
                // skinit: the disassembler counts it a return (it leaves for the secure loader).
                flow = X64Flow.Return;
                break;
            case 0x78 when mandatory is 0x66 or 0xF2:
                // extrq/insertq with two immediates (register forms only).
                if (ripOffset != -2 || (mandatory == 0x66 && reg != 0))
                {
                    return false;
                }

                immediate = 2;
                break;
            case 0x79 when mandatory is 0x66 or 0xF2:
                if (ripOffset != -2)
                {
                    return false;
                }

                break;
        }

        return Finish(code, i, immediate, flow, Memory(ripOffset), 0x0F00 | opcode, out instruction);
    }

    private static bool Vex(ReadOnlySpan<byte> code, int i, bool threeByte, out X64Instruction instruction)
    {
        instruction = default;
        var map = 1;
        if (threeByte)
        {
            if (i + 1 >= code.Length)
            {
                return false;
            }

            map = code[i] & 0x1F;
            i += 2;
        }
        else
        {
            i++;
        }

        if (map is < 1 or > 3 || i >= code.Length)
        {
            return false;
        }

        var opcode = code[i++];
        if (map == 1 && opcode == 0x77)
        {
            // vzeroupper / vzeroall: no operands.
            return Finish(code, i, 0, X64Flow.Next, -1, 0xC577, out instruction);
        }

        return ModRm(code, ref i, out var ripOffset, out _)
            && Finish(code, i, VectorImmediate(map, opcode), X64Flow.Next, Memory(ripOffset), 0xC400 | opcode, out instruction);
    }

    private static bool Evex(ReadOnlySpan<byte> code, int i, out X64Instruction instruction)
    {
        instruction = default;
        if (i + 3 >= code.Length)
        {
            return false;
        }

        var p0 = code[i];
        var p1 = code[i + 1];
        var map = p0 & 0x07;
        // P0 bit 3 is reserved (0) outside APX; P1 bit 2 is always 1.
        if (map is 0 or 4 or 7 || (p0 & 0x08) != 0 || (p1 & 0x04) == 0)
        {
            return false;
        }

        i += 3;
        var opcode = code[i++];
        return ModRm(code, ref i, out var ripOffset, out _)
            && Finish(code, i, map is 5 or 6 ? 0 : VectorImmediate(map, opcode), X64Flow.Next, Memory(ripOffset), 0x6200 | opcode, out instruction);
    }

    private static bool Xop(ReadOnlySpan<byte> code, int i, out X64Instruction instruction)
    {
        instruction = default;
        if (i + 2 >= code.Length)
        {
            return false;
        }

        var map = code[i] & 0x1F;
        if (map is not (8 or 9 or 10))
        {
            return false;
        }

        i += 2;
        var opcode = code[i++];
        return ModRm(code, ref i, out var ripOffset, out _)
            && Finish(code, i, map switch { 8 => 1, 10 => 4, _ => 0 }, X64Flow.Next, Memory(ripOffset), 0x8F00 | opcode, out instruction);
    }

    /// <summary>The immediate of a VEX or EVEX instruction: map 0F3A always has one byte; in map 0F only the shuffles, shifts by immediate and compares do.</summary>
    private static int VectorImmediate(int map, int opcode) => map switch
    {
        3 => 1,
        1 when opcode is >= 0x70 and <= 0x73 or 0xC2 or 0xC4 or 0xC5 or 0xC6 => 1,
        _ => 0,
    };

    private static int Memory(int ripOffset) => ripOffset == -2 ? -1 : ripOffset;

    /// <summary>Reads ModRM, SIB and displacement. <paramref name="ripOffset"/>: the displacement's offset when RIP-relative, -2 for a register operand, -1 otherwise.</summary>
    private static bool ModRm(ReadOnlySpan<byte> code, ref int i, out int ripOffset, out int reg)
    {
        ripOffset = -1;
        reg = 0;
        if (i >= code.Length)
        {
            return false;
        }

        var modRm = code[i++];
        var mod = modRm >> 6;
        var rm = modRm & 7;
        reg = (modRm >> 3) & 7;
        if (mod == 3)
        {
            ripOffset = -2;
            return true;
        }

        if (rm == 4)
        {
            if (i >= code.Length)
            {
                return false;
            }

            var sib = code[i++];
            if (mod == 0 && (sib & 7) == 5)
            {
                i += 4;
                return true;
            }
        }
        else if (mod == 0 && rm == 5)
        {
            ripOffset = i;
            i += 4;
            return true;
        }

        i += mod == 1 ? 1 : mod == 2 ? 4 : 0;
        return true;
    }

    private static bool Finish(ReadOnlySpan<byte> code, int end, int immediate, X64Flow flow, int ripOffset, int opcode, out X64Instruction instruction)
    {
        var length = end + immediate;
        if (length > MaxLength || length > code.Length)
        {
            instruction = default;
            return false;
        }

        var branch = flow is X64Flow.ConditionalBranch or X64Flow.UnconditionalBranch or X64Flow.Call
            ? immediate switch
            {
                1 => (sbyte)code[end],
                2 => BinaryPrimitives.ReadInt16LittleEndian(code[end..]),
                _ => BinaryPrimitives.ReadInt32LittleEndian(code[end..]),
            }
            : 0;
        instruction = new X64Instruction(length, flow, branch, ripOffset, opcode);
        return true;
    }
}
