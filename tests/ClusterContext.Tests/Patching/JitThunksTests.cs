using System.Runtime.InteropServices;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// The JIT hook's native thunks, called as the runtime calls them with stand-ins for the hook and the JIT: arguments
/// reach the JIT unchanged, the frame the hook sees holds them and the JIT's result, and a hook that answers itself
/// keeps the JIT from running.
/// </summary>
public unsafe class JitThunksTests
{
    [ThreadStatic] private static int t_beforeAnswer;
    [ThreadStatic] private static int t_originalCalls;
    [ThreadStatic] private static ulong t_sum;
    [ThreadStatic] private static int t_recorded;

    [Fact]
    public void Compile_thunk_passes_the_six_arguments_to_the_jit_and_its_result_to_after()
    {
        var thunk = CompileThunk();
        t_beforeAnswer = 0;
        t_originalCalls = 0;

        var result = thunk(1, 2, 3, 4, 5, 6);

        Assert.Equal(1, t_originalCalls);
        Assert.Equal(1 + 20 + 300 + 4000 + 50000 + 600000UL, t_sum);
        Assert.Equal(1000 + 21, result);
    }

    [Fact]
    public void Compile_thunk_skips_the_jit_when_before_answers()
    {
        var thunk = CompileThunk();
        t_beforeAnswer = 1;
        t_originalCalls = 0;

        var result = thunk(1, 2, 3, 4, 5, 6);

        Assert.Equal(0, t_originalCalls);
        Assert.Equal(1000 + 7, result);
    }

    [Fact]
    public void AllocMem_thunk_calls_the_runtime_from_its_cell_then_records()
    {
        var cell = (nint*)NativeMemory.Alloc((nuint)sizeof(nint));
        *cell = (nint)(delegate* unmanaged<nint, nint, void>)&RuntimeAllocMem;
        var thunk = (delegate* unmanaged<nint, nint, void>)JitThunks.EmitAllocMem((nint)cell, (nint)(delegate* unmanaged<nint, nint, void>)&Record);
        t_recorded = 0;

        thunk(7, 9);

        // The runtime's allocMem ran first (7 * 9), then record saw the same arguments (+ 7 + 9).
        Assert.Equal((7 * 9) + 7 + 9, t_recorded);
    }

    // The compileMethod thunk between Before, a stand-in for the JIT, and After.
    private static delegate* unmanaged<nint, nint, nint, uint, nint, nint, int> CompileThunk() =>
        (delegate* unmanaged<nint, nint, nint, uint, nint, nint, int>)JitThunks.EmitCompileMethod(
            (nint)(delegate* unmanaged<CompileFrame*, int>)&Before, (nint)(delegate* unmanaged<nint, nint, nint, uint, nint, nint, int>)&Original,
            (nint)(delegate* unmanaged<CompileFrame*, int>)&After);

    [UnmanagedCallersOnly]
    private static int Before(CompileFrame* frame)
    {
        frame->Slot = 0;
        if (t_beforeAnswer != 0)
        {
            frame->Result = 7;
        }

        return t_beforeAnswer;
    }

    [UnmanagedCallersOnly]
    private static int Original(nint jit, nint comp, nint info, uint flags, nint entry, nint size)
    {
        t_originalCalls++;
        t_sum = (ulong)(jit + (comp * 10) + (info * 100) + (flags * 1000L) + (entry * 10000) + (size * 100000));
        return 21;
    }

    [UnmanagedCallersOnly]
    private static int After(CompileFrame* frame)
    {
        // The frame still holds what the thunk was called with.
        return (nint)frame->Jit == 1 && (nint)frame->NativeSize == 6 && frame->Flags == 4 ? 1000 + frame->Result : -1;
    }

    [UnmanagedCallersOnly]
    private static void RuntimeAllocMem(nint comp, nint args) => t_recorded = (int)(comp * args);

    [UnmanagedCallersOnly]
    private static void Record(nint comp, nint args) => t_recorded += (int)(comp + args);
}
