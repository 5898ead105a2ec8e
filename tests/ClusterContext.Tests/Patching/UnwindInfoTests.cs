using System.Runtime.InteropServices;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// The JIT hook's thunks are described to the unwinder the runtime's C++ exceptions use: asked by the unwinder's own
/// lookup (libgcc_s's <c>_Unwind_Find_FDE</c>, what it does for each frame of an exception), an address inside a
/// thunk leads to the thunk's own entry, starting at its first byte.
/// </summary>
public unsafe class UnwindInfoTests
{
    [Fact]
    public void The_unwinder_finds_a_thunks_frame_description()
    {
        Assert.True(UnwindInfo.IsAvailable);
        var cell = (nint*)NativeMemory.Alloc((nuint)sizeof(nint));
        var thunk = JitThunks.EmitAllocMem((nint)cell, 0);
        var findFde = (delegate* unmanaged<void*, nint*, void*>)NativeLibrary.GetExport(NativeLibrary.Load("libgcc_s.so.1"), "_Unwind_Find_FDE");

        // struct dwarf_eh_bases { tbase, dbase, func }: func is the start of the code the entry covers.
        var bases = stackalloc nint[3];
        Assert.True(findFde((void*)(thunk + 20), bases) != null);
        Assert.Equal(thunk, bases[2]);
    }

    [Fact]
    public void The_description_is_one_cie_one_fde_and_the_terminator()
    {
        var data = UnwindInfo.Build(0x7000_1000, 0x40);

        var cieLength = BitConverter.ToInt32(data, 0);
        Assert.Equal(0, (cieLength + 4) % 8);
        Assert.Equal(0, BitConverter.ToInt32(data, 4));
        var fde = cieLength + 4;
        var fdeLength = BitConverter.ToInt32(data, fde);
        Assert.Equal(fde + 4, BitConverter.ToInt32(data, fde + 4));
        Assert.Equal(0x7000_1000, BitConverter.ToInt64(data, fde + 8));
        Assert.Equal(0x40, BitConverter.ToInt64(data, fde + 16));
        Assert.Equal(fde + 4 + fdeLength + 4, data.Length);
        Assert.Equal(0, BitConverter.ToInt32(data, data.Length - 4));
    }
}
