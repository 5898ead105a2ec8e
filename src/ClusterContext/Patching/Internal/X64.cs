using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Iced.Intel;

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
        // void store16(void* destination /* rdi */, ulong low /* rsi */, ulong high /* rdx */)
        var assembler = new Assembler(64);
        var retry = assembler.CreateLabel();
        assembler.push(AssemblerRegisters.rbx);
        assembler.mov(AssemblerRegisters.r8, AssemblerRegisters.rdx);
        assembler.mov(AssemblerRegisters.rax, AssemblerRegisters.__qword_ptr[AssemblerRegisters.rdi]);
        assembler.mov(AssemblerRegisters.rdx, AssemblerRegisters.__qword_ptr[AssemblerRegisters.rdi + 8]);
        assembler.mov(AssemblerRegisters.rbx, AssemblerRegisters.rsi);
        assembler.mov(AssemblerRegisters.rcx, AssemblerRegisters.r8);
        assembler.Label(ref retry);
        assembler.@lock.cmpxchg16b(AssemblerRegisters.__xmmword_ptr[AssemblerRegisters.rdi]);
        assembler.jne(retry);
        assembler.pop(AssemblerRegisters.rbx);
        assembler.ret();
        var address = CodeMemory.Allocate(0, 64);
        var writer = new BufferWriter();
        assembler.Assemble(writer, (ulong)address);
        CodeMemory.WriteOwn(address, writer.ToArray());
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

    /// <summary>The target when the code at <paramref name="address"/> is a stub that only forwards; otherwise 0.</summary>
    private static nint NextHop(nint address)
    {
        var decoder = Decoder.Create(64, new UnmanagedCodeReader(address, 64), (ulong)address);
        decoder.Decode(out var first);
        var jump = JumpTarget(first);
        if (jump != 0)
        {
            return jump;
        }

        // Call-counting stub: mov rax,[rip+counter]; dec word ptr [rax]; je threshold; jmp [rip+target].
        if (first.Mnemonic == Mnemonic.Mov && first.Op0Register == Register.RAX && first.IsIPRelativeMemoryOperand)
        {
            decoder.Decode(out var second);
            decoder.Decode(out var third);
            decoder.Decode(out var fourth);
            if (second.Mnemonic == Mnemonic.Dec && third.Mnemonic == Mnemonic.Je)
            {
                return JumpTarget(fourth);
            }
        }

        return 0;
    }

    private static nint JumpTarget(in Instruction instruction)
    {
        if (instruction.FlowControl == FlowControl.UnconditionalBranch && instruction.Op0Kind is OpKind.NearBranch64)
        {
            return (nint)instruction.NearBranchTarget;
        }

        if (instruction.FlowControl == FlowControl.IndirectBranch && instruction.IsIPRelativeMemoryOperand)
        {
            return *(nint*)instruction.IPRelativeMemoryAddress;
        }

        return 0;
    }

    /// <summary>
    /// Builds the code that runs a body's first instructions (the ones a patch of <paramref name="patchLength"/>
    /// bytes overwrites) and continues in the body after them. <paramref name="prologue"/> holds the body's original
    /// first bytes; <paramref name="body"/> is where they run; the result is meant to be placed at <paramref name="trampoline"/>.
    /// </summary>
    public static byte[] BuildTrampoline(ReadOnlySpan<byte> prologue, nint body, int patchLength, nint trampoline, string method)
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(prologue.ToArray()), (ulong)body);
        var instructions = new List<Instruction>();
        var covered = 0;
        while (covered < patchLength)
        {
            decoder.Decode(out var instruction);
            if (instruction.IsInvalid || instruction.Length == 0 || covered + instruction.Length > prologue.Length)
            {
                throw new PatchException($"{method}: cannot decode its first instructions at 0x{body:x}.");
            }

            if (instruction.FlowControl is FlowControl.Return or FlowControl.UnconditionalBranch or FlowControl.IndirectBranch && covered + instruction.Length < patchLength)
            {
                throw new PatchException($"{method}: its body is shorter than the {patchLength}-byte jump a patch needs (it ends at 0x{body + covered:x}).");
            }

            instructions.Add(instruction);
            covered += instruction.Length;
        }

        var back = Instruction.CreateBranch(Code.Jmp_rel32_64, (ulong)(body + covered));
        instructions.Add(back);
        var writer = new BufferWriter();
        if (!BlockEncoder.TryEncode(64, new InstructionBlock(writer, instructions, (ulong)trampoline), out var error, out _, BlockEncoderOptions.None))
        {
            throw new PatchException($"{method}: cannot relocate its first instructions: {error}");
        }

        return writer.ToArray();
    }

    /// <summary>How many bytes the instructions covering the first <paramref name="patchLength"/> bytes take.</summary>
    public static int CoveredLength(ReadOnlySpan<byte> prologue, nint body, int patchLength)
    {
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(prologue.ToArray()), (ulong)body);
        var covered = 0;
        while (covered < patchLength)
        {
            decoder.Decode(out var instruction);
            covered += Math.Max(1, instruction.Length);
        }

        return covered;
    }

    private sealed class UnmanagedCodeReader(nint address, int length) : CodeReader
    {
        private int _offset;

        public override int ReadByte() => _offset < length ? ((byte*)address)[_offset++] : -1;
    }

    private sealed class BufferWriter : CodeWriter
    {
        private readonly List<byte> _bytes = [];

        public override void WriteByte(byte value) => _bytes.Add(value);

        public byte[] ToArray() => [.. _bytes];
    }
}
