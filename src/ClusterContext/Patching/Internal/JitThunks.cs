using System.Buffers.Binary;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Native code between the runtime and the JIT, so that no managed frame is on the stack while the JIT runs: an
/// exception the runtime throws from inside the JIT (a type, method or assembly a callee needs is missing) is a C++
/// exception that unwinds through the JIT back to the runtime's handler around compileMethod, and the C++ unwinder
/// cannot pass a managed frame (the process ends: "terminate called after throwing an instance of
/// 'PAL_SEHException'"). The thunks call managed code only before and after the JIT's own function, and their frames
/// are described to the unwinder (<see cref="UnwindInfo"/>). An exception that passes skips what comes after.
/// </summary>
/// <remarks>
/// The thunks are fixed machine code with the addresses they call filled in, written out here byte by byte rather
/// than assembled in the process: the JIT hook goes in first of all, and an assembler would be compiled on the way.
/// </remarks>
internal static unsafe class JitThunks
{
    private static ReadOnlySpan<byte> MovRaxZero => [0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>
    /// <c>int compileMethod(jit, comp, info, flags, nativeEntry, nativeSize)</c>: stores its arguments in a
    /// <see cref="CompileFrame"/> on its stack, calls <c>int before(CompileFrame*)</c>, then, unless that returned
    /// non-zero, the JIT's <paramref name="original"/> with the arguments, and returns
    /// <c>int after(CompileFrame*)</c>.
    /// </summary>
    public static nint EmitCompileMethod(nint before, nint original, nint after)
    {
        ReadOnlySpan<byte> code =
        [
            0x55,                                     // push rbp
            0x48, 0x89, 0xE5,                         // mov rbp, rsp
            0x48, 0x83, 0xEC, 0x40,                   // sub rsp, sizeof(CompileFrame)
            0x48, 0x89, 0x3C, 0x24,                   // mov [rsp], rdi
            0x48, 0x89, 0x74, 0x24, 0x08,             // mov [rsp+8], rsi
            0x48, 0x89, 0x54, 0x24, 0x10,             // mov [rsp+0x10], rdx
            0x48, 0x89, 0x4C, 0x24, 0x18,             // mov [rsp+0x18], rcx
            0x4C, 0x89, 0x44, 0x24, 0x20,             // mov [rsp+0x20], r8
            0x4C, 0x89, 0x4C, 0x24, 0x28,             // mov [rsp+0x28], r9
            0x48, 0x89, 0xE7,                         // mov rdi, rsp
            0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0,       // mov rax, before
            0xFF, 0xD0,                               // call rax
            0x85, 0xC0,                               // test eax, eax
            0x75, 0x2D,                               // jnz after_call
            0x48, 0x8B, 0x3C, 0x24,                   // mov rdi, [rsp]
            0x48, 0x8B, 0x74, 0x24, 0x08,             // mov rsi, [rsp+8]
            0x48, 0x8B, 0x54, 0x24, 0x10,             // mov rdx, [rsp+0x10]
            0x48, 0x8B, 0x4C, 0x24, 0x18,             // mov rcx, [rsp+0x18]
            0x4C, 0x8B, 0x44, 0x24, 0x20,             // mov r8, [rsp+0x20]
            0x4C, 0x8B, 0x4C, 0x24, 0x28,             // mov r9, [rsp+0x28]
            0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0,       // mov rax, original
            0xFF, 0xD0,                               // call rax
            0x89, 0x44, 0x24, CompileFrame.ResultOffset, // mov [rsp+ResultOffset], eax
                                                      // after_call:
            0x48, 0x89, 0xE7,                         // mov rdi, rsp
            0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0,       // mov rax, after
            0xFF, 0xD0,                               // call rax
            0xC9,                                     // leave
            0xC3,                                     // ret
        ];
        return Place(code, before, original, after);
    }

    /// <summary>
    /// <c>void allocMem(comp, args)</c>: calls the runtime's allocMem, read from <paramref name="originalCell"/> (it is
    /// learnt at the first compilation), then <c>void record(comp, args)</c>.
    /// </summary>
    public static nint EmitAllocMem(nint originalCell, nint record)
    {
        ReadOnlySpan<byte> code =
        [
            0x55,                                     // push rbp
            0x48, 0x89, 0xE5,                         // mov rbp, rsp
            0x48, 0x83, 0xEC, 0x10,                   // sub rsp, 16
            0x48, 0x89, 0x3C, 0x24,                   // mov [rsp], rdi
            0x48, 0x89, 0x74, 0x24, 0x08,             // mov [rsp+8], rsi
            0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0,       // mov rax, originalCell
            0xFF, 0x10,                               // call [rax]
            0x48, 0x8B, 0x3C, 0x24,                   // mov rdi, [rsp]
            0x48, 0x8B, 0x74, 0x24, 0x08,             // mov rsi, [rsp+8]
            0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0,       // mov rax, record
            0xFF, 0xD0,                               // call rax
            0xC9,                                     // leave
            0xC3,                                     // ret
        ];
        return Place(code, originalCell, record);
    }

    private static nint Place(ReadOnlySpan<byte> template, params ReadOnlySpan<nint> addresses)
    {
        // The shape UnwindInfo describes: rbp holds the frame from the fourth byte on; rsp stays 16-byte aligned at
        // every call (8 for the return address, 8 for rbp, then a multiple of 16); it ends with leave; ret. Each
        // mov rax, 0 in the template takes the next of the addresses.
        var bytes = template.ToArray();
        var at = 0;
        foreach (var address in addresses)
        {
            var found = bytes.AsSpan(at).IndexOf(MovRaxZero);
            if (found < 0)
            {
                throw new PatchException("The JIT hook's thunk has fewer places for addresses than it is given.");
            }

            at += found + 2;
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), address);
            at += 8;
        }

        var code = CodeMemory.Allocate(0, bytes.Length);
        CodeMemory.WriteOwn(code, bytes);
        UnwindInfo.Register(code, bytes.Length);
        return code;
    }
}
