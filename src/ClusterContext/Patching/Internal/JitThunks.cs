using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Native code between the runtime and the JIT, so that no managed frame is on the stack while the JIT runs: an
/// exception the runtime throws from inside the JIT (a type, method or assembly a callee needs is missing) is a C++
/// exception that unwinds through the JIT back to the runtime's handler around compileMethod, and the C++ unwinder
/// cannot pass a managed frame (the process ends: "terminate called after throwing an instance of
/// 'PAL_SEHException'"). The thunks call managed code only before and after the JIT's own function, and their frames
/// are described to the unwinder (<see cref="UnwindInfo"/>). An exception that passes skips what comes after.
/// </summary>
internal static unsafe class JitThunks
{
    /// <summary>
    /// <c>int compileMethod(jit, comp, info, flags, nativeEntry, nativeSize)</c>: stores its arguments in a
    /// <see cref="CompileFrame"/> on its stack, calls <c>int before(CompileFrame*)</c>, then, unless that returned
    /// non-zero, the JIT's <paramref name="original"/> with the arguments, and returns
    /// <c>int after(CompileFrame*)</c>.
    /// </summary>
    public static nint EmitCompileMethod(nint before, nint original, nint after)
    {
        var code = new Assembler(64);
        var callAfter = code.CreateLabel();
        Prologue(code, sizeof(CompileFrame));
        code.mov(__qword_ptr[rsp], rdi);
        code.mov(__qword_ptr[rsp + 0x08], rsi);
        code.mov(__qword_ptr[rsp + 0x10], rdx);
        code.mov(__qword_ptr[rsp + 0x18], rcx);
        code.mov(__qword_ptr[rsp + 0x20], r8);
        code.mov(__qword_ptr[rsp + 0x28], r9);
        code.mov(rdi, rsp);
        code.mov(rax, (ulong)before);
        code.call(rax);
        code.test(eax, eax);
        code.jnz(callAfter);
        code.mov(rdi, __qword_ptr[rsp]);
        code.mov(rsi, __qword_ptr[rsp + 0x08]);
        code.mov(rdx, __qword_ptr[rsp + 0x10]);
        code.mov(rcx, __qword_ptr[rsp + 0x18]);
        code.mov(r8, __qword_ptr[rsp + 0x20]);
        code.mov(r9, __qword_ptr[rsp + 0x28]);
        code.mov(rax, (ulong)original);
        code.call(rax);
        code.mov(__dword_ptr[rsp + CompileFrame.ResultOffset], eax);
        code.Label(ref callAfter);
        code.mov(rdi, rsp);
        code.mov(rax, (ulong)after);
        code.call(rax);
        return Place(code);
    }

    /// <summary>
    /// <c>void allocMem(comp, args)</c>: calls the runtime's allocMem, read from <paramref name="originalCell"/> (it is
    /// learnt at the first compilation), then <c>void record(comp, args)</c>.
    /// </summary>
    public static nint EmitAllocMem(nint originalCell, nint record)
    {
        var code = new Assembler(64);
        Prologue(code, 16);
        code.mov(__qword_ptr[rsp], rdi);
        code.mov(__qword_ptr[rsp + 0x08], rsi);
        code.mov(rax, (ulong)originalCell);
        code.call(__qword_ptr[rax]);
        code.mov(rdi, __qword_ptr[rsp]);
        code.mov(rsi, __qword_ptr[rsp + 0x08]);
        code.mov(rax, (ulong)record);
        code.call(rax);
        return Place(code);
    }

    private static void Prologue(Assembler code, int frameSize)
    {
        // The shape UnwindInfo describes: rbp holds the frame from the fourth byte on; rsp stays 16-byte aligned at
        // every call (8 for the return address, 8 for rbp, then a multiple of 16).
        code.push(rbp);
        code.mov(rbp, rsp);
        code.sub(rsp, frameSize);
    }

    private static nint Place(Assembler code)
    {
        code.leave();
        code.ret();

        // Nothing in the thunks depends on where they are: assembled once, then copied into place.
        var writer = new X64.BufferWriter();
        code.Assemble(writer, 0);
        var bytes = writer.ToArray();
        if (bytes[0] != 0x55 || bytes[^2] != 0xC9 || bytes[^1] != 0xC3)
        {
            throw new PatchException("The JIT hook's thunk was not assembled in the shape its unwind information describes.");
        }

        var address = CodeMemory.Allocate(0, bytes.Length);
        CodeMemory.WriteOwn(address, bytes);
        UnwindInfo.Register(address, bytes.Length);
        return address;
    }
}
