using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Everything that depends on the instruction set: jump encodings, walking the runtime's entry stubs to the
/// method body, and relocating a body's first instructions into a trampoline. An arm64 port replaces this type.
/// </summary>
internal static unsafe class X64
{
    /// <summary>Length of <c>jmp rel32</c>.</summary>
    public const int RelativeJumpLength = 5;

    /// <summary>Length of <c>jmp qword ptr [rip+0]</c> followed by the 8-byte target.</summary>
    public const int AbsoluteJumpLength = 14;

    /// <summary>Bytes of a body kept aside so that its first instructions can be relocated later.</summary>
    public const int SavedPrologueLength = 32;

    public static bool IsSupported => RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Bytes one <see cref="Store16"/> replaces.</summary>
    public const int AtomicStoreLength = 16;

    private static delegate* unmanaged<void*, ulong, ulong, void> s_store16;

    /// <summary>
    /// Replaces 16 bytes at a 16-byte aligned address with one locked cmpxchg16b, so that a thread running the code
    /// sees either all old or all new bytes: a 14-byte jump goes in, and comes out again, in one step.
    /// </summary>
    public static void Store16(nint alignedAddress, ReadOnlySpan<byte> bytes)
    {
        if (s_store16 == null)
        {
            s_store16 = (delegate* unmanaged<void*, ulong, ulong, void>)AssembleStore16();
        }

        s_store16((void*)alignedAddress, BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
    }

    private static nint AssembleStore16()
    {
        // void store16(void* destination /* rdi */, ulong low /* rsi */, ulong high /* rdx */):
        //   push rbx; mov r8,rdx; mov rax,[rdi]; mov rdx,[rdi+8]; mov rbx,rsi; mov rcx,r8;
        //   retry: lock cmpxchg16b [rdi]; jne retry; pop rbx; ret
        ReadOnlySpan<byte> code =
        [
            0x53, 0x49, 0x89, 0xD0, 0x48, 0x8B, 0x07, 0x48, 0x8B, 0x57, 0x08, 0x48, 0x89, 0xF3, 0x4C, 0x89, 0xC1,
            0xF0, 0x48, 0x0F, 0xC7, 0x0F, 0x75, 0xF9, 0x5B, 0xC3,
        ];
        var address = CodeMemory.Allocate(0, code.Length);
        CodeMemory.WriteOwn(address, code);
        return address;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void EncodeRelativeJump(Span<byte> destination, nint from, nint to)
    {
        destination[0] = 0xE9;
        BinaryPrimitives.WriteInt32LittleEndian(destination[1..], checked((int)((long)to - (from + RelativeJumpLength))));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void EncodeAbsoluteJump(Span<byte> destination, nint to)
    {
        destination[0] = 0xFF;
        destination[1] = 0x25;
        BinaryPrimitives.WriteInt32LittleEndian(destination[2..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[6..], to);
    }

    /// <summary>The address an absolute jump stub written by <see cref="EncodeAbsoluteJump"/> keeps its target in.</summary>
    public static nint AbsoluteJumpTargetSlot(nint stub) => stub + 6;

    /// <summary>
    /// Follows the runtime's stubs from a method's entry point (precode, call-counting stub) to the code they lead
    /// to. Returns 0 when the method has no code yet (its precode still leads to the prestub).
    /// </summary>
    public static nint FollowToBody(nint entry, Func<nint, bool> isPatchedBody)
    {
        var address = entry;
        for (var hop = 0; hop < 8; hop++)
        {
            // A body this engine patched starts with a jump too; it is the end of the chain, not a stub.
            if (isPatchedBody(address))
            {
                return address;
            }

            var next = NextHop(address);
            if (next != 0 && isPatchedBody(next))
            {
                return next;
            }

            if (next == 0)
            {
                return address;
            }

            // A FixupPrecode whose target is its own second instruction has not been prepared.
            if (next > address && next < address + 16)
            {
                return 0;
            }

            address = next;
        }

        throw new PatchException($"More than 8 stubs in front of the code at 0x{entry:x}.");
    }

    /// <summary>
    /// For a FixupPrecode (<c>jmp [rip+target]</c>; callers compiled by the JIT call through the same target slot),
    /// the address of that slot; 0 when the entry point is not one.
    /// </summary>
    public static nint PrecodeTargetSlot(nint entry)
    {
        var code = new ReadOnlySpan<byte>((void*)entry, 6);
        return code is [0xFF, 0x25, ..] ? entry + 6 + BinaryPrimitives.ReadInt32LittleEndian(code[2..]) : 0;
    }

    /// <summary>The target when the code at <paramref name="address"/> is a stub that only forwards; otherwise 0.</summary>
    private static nint NextHop(nint address)
    {
        var code = new ReadOnlySpan<byte>((void*)address, 24);
        var jump = JumpTarget(address, code);
        if (jump != 0)
        {
            return jump;
        }

        // Call-counting stub: mov rax,[rip+counter]; dec word ptr [rax]; je threshold; jmp [rip+target].
        if (code[..3].SequenceEqual((ReadOnlySpan<byte>)[0x48, 0x8B, 0x05]) && code.Slice(7, 3).SequenceEqual((ReadOnlySpan<byte>)[0x66, 0xFF, 0x08]) && code[10] == 0x74)
        {
            return JumpTarget(address + 12, code[12..]);
        }

        return 0;
    }

    /// <summary>Target of <c>jmp [rip+disp32]</c> or <c>jmp rel32</c> at <paramref name="address"/>; otherwise 0.</summary>
    private static nint JumpTarget(nint address, ReadOnlySpan<byte> code) => code switch
    {
        [0xFF, 0x25, ..] => *(nint*)(address + 6 + BinaryPrimitives.ReadInt32LittleEndian(code[2..])),
        [0xE9, ..] => address + 5 + BinaryPrimitives.ReadInt32LittleEndian(code[1..]),
        _ => 0,
    };

    /// <summary>
    /// Builds the code that runs a body's first instructions (the ones a patch of <paramref name="patchLength"/>
    /// bytes overwrites) and continues in the body after them. <paramref name="prologue"/> holds the body's original
    /// first bytes; <paramref name="body"/> is where they run; the result is meant to be placed at <paramref name="trampoline"/>.
    /// </summary>
    public static byte[] BuildTrampoline(ReadOnlySpan<byte> prologue, nint body, int patchLength, nint trampoline, string method)
    {
        var plain = PrologueCopier.CoveredLength(prologue, patchLength);
        if (plain > 0)
        {
            // Position-independent instructions: copied as they are, then a jump back into the body after them.
            var code = new byte[plain + AbsoluteJumpLength];
            prologue[..plain].CopyTo(code);
            EncodeAbsoluteJump(code.AsSpan(plain), body + plain);
            return code;
        }

        return Relocate(prologue, body, patchLength, trampoline, method);
    }

    private static byte[] Relocate(ReadOnlySpan<byte> prologue, nint body, int patchLength, nint trampoline, string method)
    {
        var code = new List<byte>(MaxTrampolineLength(prologue.Length));
        var covered = 0;
        while (covered < patchLength)
        {
            if (!X64Decoder.TryDecode(prologue[covered..], out var instruction))
            {
                throw new PatchException($"{method}: cannot decode its first instructions at 0x{body:x}.");
            }

            if (instruction.Flow is X64Flow.Return or X64Flow.UnconditionalBranch or X64Flow.IndirectBranch && covered + instruction.Length < patchLength)
            {
                throw new PatchException($"{method}: its body is shorter than the {patchLength}-byte jump a patch needs (it ends at 0x{body + covered:x}).");
            }

            var from = body + covered;
            var bytes = prologue.Slice(covered, instruction.Length);
            var at = trampoline + code.Count;
            if (instruction.IsRelativeBranch)
            {
                var target = from + instruction.Length + instruction.Branch;
                switch (instruction.Opcode)
                {
                    case 0xE9 or 0xEB:
                        AddAbsoluteJump(code, target);
                        break;
                    case 0xE8:
                        // call [rip+2]; jmp +8; the target: the call returns to the jmp, which steps over the target.
                        code.AddRange([0xFF, 0x15, 0x02, 0x00, 0x00, 0x00, 0xEB, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]);
                        BinaryPrimitives.WriteInt64LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(code)[^8..], target);
                        break;
                    case >= 0x70 and <= 0x7F or >= 0x0F80 and <= 0x0F8F:
                        // The opposite condition steps over an absolute jump to the target.
                        code.Add((byte)(0x70 | ((instruction.Opcode & 0x0F) ^ 1)));
                        code.Add(AbsoluteJumpLength);
                        AddAbsoluteJump(code, target);
                        break;
                    default:
                        throw new PatchException($"{method}: cannot relocate its first instructions: a loop or transaction branch at 0x{from:x} has no long form to move it with; nothing was changed. Patch a method that calls it.");
                }
            }
            else if (instruction.RipDisplacementOffset >= 0)
            {
                // The operand stays where it is: its displacement, relative to the instruction's end, moves by the distance.
                var copy = bytes.ToArray();
                var displacement = BinaryPrimitives.ReadInt32LittleEndian(copy.AsSpan(instruction.RipDisplacementOffset)) + (long)from - at;
                if (displacement is < int.MinValue or > int.MaxValue)
                {
                    throw new PatchException($"{method}: cannot relocate its first instructions: a RIP-relative operand at 0x{from:x} is out of reach from the trampoline at 0x{at:x}; nothing was changed.");
                }

                BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(instruction.RipDisplacementOffset), (int)displacement);
                code.AddRange(copy);
            }
            else
            {
                code.AddRange(bytes);
            }

            covered += instruction.Length;
        }

        AddAbsoluteJump(code, body + covered);
        return [.. code];
    }

    private static void AddAbsoluteJump(List<byte> code, nint to)
    {
        Span<byte> jump = stackalloc byte[AbsoluteJumpLength];
        EncodeAbsoluteJump(jump, to);
        code.AddRange(jump);
    }

    /// <summary>The most a trampoline takes for first instructions of <paramref name="covered"/> bytes: a relocated branch grows at most eightfold (2 bytes to 16), plus the jump back.</summary>
    public static int MaxTrampolineLength(int covered) => (covered * 8) + AbsoluteJumpLength;

    /// <summary>How many bytes the instructions covering the first <paramref name="patchLength"/> bytes take.</summary>
    public static int CoveredLength(ReadOnlySpan<byte> prologue, int patchLength)
    {
        var plain = PrologueCopier.CoveredLength(prologue, patchLength);
        if (plain > 0)
        {
            return plain;
        }

        var covered = 0;
        while (covered < patchLength)
        {
            covered += X64Decoder.TryDecode(prologue[covered..], out var instruction) ? instruction.Length : 1;
            if (covered >= prologue.Length)
            {
                break;
            }
        }

        return covered;
    }
}
