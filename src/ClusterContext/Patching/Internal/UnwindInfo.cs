using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// DWARF call-frame information (.eh_frame format) for the engine's native thunks, registered with the unwinder
/// the runtime's C++ exceptions use (libgcc_s, <c>__register_frame</c>), so that an exception thrown by the runtime
/// while the JIT runs passes through a thunk on its way to the runtime's handler. Without it the unwinder stops at
/// the thunk's frame, finds no handler and ends the process.
/// </summary>
internal static unsafe class UnwindInfo
{
    private const byte AdvanceLoc = 0x40;
    private const byte AdvanceLoc1 = 0x02;
    private const byte DefCfa = 0x0C;
    private const byte DefCfaOffset = 0x0E;
    private const byte DefCfaRegister = 0x0D;
    private const byte Offset = 0x80;
    private const byte Restore = 0xC0;
    private const byte Rbp = 6;
    private const byte Rsp = 7;
    private const byte ReturnAddress = 16;

    private static delegate* unmanaged<void*, void> s_registerFrame;

    /// <summary>Whether thunks' frames can be described to the unwinder in this process (libgcc_s is its unwinder).</summary>
    public static bool IsAvailable => RegisterFrame() != null;

    /// <summary>
    /// Describes the thunk at <paramref name="code"/> to the unwinder. Its shape is fixed: <c>push rbp; mov rbp, rsp</c>
    /// first, the frame addressed through rbp until it ends with <c>leave; ret</c>, its last two bytes, and no other
    /// callee-saved register changed. The memory stays allocated for the life of the process, as registered data must.
    /// </summary>
    public static void Register(nint code, int length)
    {
        var register = RegisterFrame();
        if (register == null)
        {
            throw new PatchException("The unwinder of this process (libgcc_s.so.1 with __register_frame) was not found: the JIT hook's frame could not be made passable for the runtime's exceptions.");
        }

        var data = Build(code, length);
        var memory = (byte*)NativeMemory.AlignedAlloc((nuint)data.Length, 8);
        data.CopyTo(new Span<byte>(memory, data.Length));
        register(memory);
    }

    /// <summary>One CIE, one FDE covering the thunk, and the zero terminator that ends an .eh_frame section.</summary>
    internal static byte[] Build(nint code, int length)
    {
        // CIE: version 1, augmentation "zR" (the FDE's addresses are absolute 8-byte values), code alignment 1,
        // data alignment -8, return address in column 16; on entry the CFA is rsp+8 and the return address at CFA-8.
        var cie = Entry(
        [
            0, 0, 0, 0, 1, (byte)'z', (byte)'R', 0, 1, 0x78, ReturnAddress, 1, 0x00,
            DefCfa, Rsp, 8, Offset | ReturnAddress, 1,
        ]);

        // FDE: after push rbp the CFA is rsp+16 and rbp is saved at CFA-16; after mov rbp, rsp the CFA is rbp+16;
        // after leave (before ret) it is rsp+8 again and rbp holds the caller's value.
        var instructions = new List<byte>(40) { 0, 0, 0, 0 };
        var range = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(range, code);
        BinaryPrimitives.WriteInt64LittleEndian(range.AsSpan(8), length);
        instructions.AddRange(range);
        instructions.AddRange(
        [
            0,
            AdvanceLoc | 1, DefCfaOffset, 16, Offset | Rbp, 2,
            AdvanceLoc | 3, DefCfaRegister, Rbp,
            AdvanceLoc1, checked((byte)(length - 1 - 4)), DefCfa, Rsp, 8, Restore | Rbp,
        ]);
        var fde = Entry([.. instructions]);

        // The FDE's CIE pointer: the distance from that field back to the CIE's start.
        BinaryPrimitives.WriteInt32LittleEndian(fde.AsSpan(4), cie.Length + 4);
        return [.. cie, .. fde, 0, 0, 0, 0];
    }

    /// <summary>A length-prefixed entry, padded with DW_CFA_nop to a multiple of 8 bytes.</summary>
    private static byte[] Entry(byte[] content)
    {
        var total = (4 + content.Length + 7) & ~7;
        var entry = new byte[total];
        BinaryPrimitives.WriteInt32LittleEndian(entry, total - 4);
        content.CopyTo(entry, 4);
        return entry;
    }

    private static delegate* unmanaged<void*, void> RegisterFrame()
    {
        // Only when libgcc_s's unwinder is the one C++ throws in this process reach (the runtime links it).
        if (s_registerFrame == null
            && NativeLibrary.TryLoad("libgcc_s.so.1", out var unwinder)
            && NativeLibrary.TryGetExport(unwinder, "__register_frame", out var register)
            && NativeLibrary.TryGetExport(unwinder, "_Unwind_RaiseException", out var raise)
            && NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "_Unwind_RaiseException", out var used)
            && raise == used)
        {
            s_registerFrame = (delegate* unmanaged<void*, void>)register;
        }

        return s_registerFrame;
    }
}
