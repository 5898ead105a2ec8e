using System.Runtime.CompilerServices;
using ClusterContext.Patching;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Tests.Patching;

/// <summary>A loop whose head lies within the bytes a jump would cover: optimized code of a method without a frame.</summary>
[Collection(PatchingGroup.Name)]
public sealed unsafe class InnerBranchTests
{
    // push rbp; mov rbp, rsp; xor eax, eax; xor ecx, ecx; test edi, edi; jle end;
    // loop (offset 12): mov edx, ecx; xor edx, edi; add eax, edx; inc ecx; cmp ecx, edi; jl loop; end: pop rbp; ret
    private static readonly byte[] LoopAtTwelve =
    [
        0x55, 0x48, 0x8B, 0xEC, 0x33, 0xC0, 0x33, 0xC9, 0x85, 0xFF, 0x7E, 0x0E,
        0x8B, 0xD1, 0x33, 0xD7, 0x03, 0xC2, 0xFF, 0xC1, 0x3B, 0xCF, 0x7C, 0xF4, 0x5D, 0xC3,
    ];

    [Fact]
    public void A_loop_head_inside_the_first_bytes_is_found_and_a_frame_setup_is_not_decoded()
    {
        fixed (byte* code = LoopAtTwelve)
        {
            Assert.Equal(12, InnerBranches.LowestTarget((nint)code, LoopAtTwelve.Length, LoopAtTwelve, X64.AbsoluteJumpLength));
            Assert.Equal(-1, InnerBranches.LowestTarget((nint)code, LoopAtTwelve.Length, LoopAtTwelve, 12));
        }

        // push rbp; push rbx; sub rsp, 0x28; lea rbp, [rsp+0x30]; push r15 ... : 14 bytes of frame set-up.
        byte[] frame = [0x55, 0x53, 0x48, 0x83, 0xEC, 0x28, 0x48, 0x8D, 0x6C, 0x24, 0x30, 0x41, 0x57, 0x41, 0x56, 0xC3];
        Assert.Equal(15, PrologueCopier.FrameSetupLength(frame.AsSpan(0, 15)));
        fixed (byte* code = frame)
        {
            Assert.Equal(-1, InnerBranches.LowestTarget((nint)code, frame.Length, frame, X64.AbsoluteJumpLength));
        }
    }

    [Fact]
    public void A_loop_back_to_the_first_instruction_is_found_at_offset_zero()
    {
        // loop: dec edi; jnz loop; ret
        byte[] spin = [0xFF, 0xCF, 0x75, 0xFC, 0xC3];
        fixed (byte* code = spin)
        {
            Assert.Equal(0, InnerBranches.LowestTarget((nint)code, spin.Length, spin, X64.AbsoluteJumpLength));
        }
    }

    [Fact]
    public void Threads_running_the_loop_while_it_is_patched_keep_running_and_the_original_loops_correctly()
    {
        var stop = 0;
        long wrong = 0;
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                // Long loops: a thread is inside the loop, past its first bytes, when the jump goes in.
                if (LoopTarget.Sum(100_000) != Expected(100_000))
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Thread.Sleep(50);

        var patch = MethodPatcher.Shared.Patch(
            [(typeof(LoopTarget).GetMethod(nameof(LoopTarget.Sum))!, typeof(LoopTarget).GetMethod(nameof(LoopTarget.Hooked))!)],
            "inner-branch",
            patches => LoopTarget.Original = patches[0].Original)[0];
        try
        {
            LoopTarget.HookedCalls = 0;
            Assert.Equal(Expected(1000), LoopTarget.Sum(1000));
            Assert.Equal(1, LoopTarget.HookedCalls);
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            threads.ForEach(t => t.Join());
            MethodPatcher.Shared.Remove(patch);
        }

        Assert.Equal(0, Interlocked.Read(ref wrong));
        Assert.Equal(Expected(7), LoopTarget.Sum(7));
    }

    private static int Expected(int x)
    {
        var total = 0;
        for (var i = 0; i < x; i++)
        {
            total += i ^ x;
        }

        return total;
    }

    private static class LoopTarget
    {
        public static nint Original;
        [ThreadStatic]
        public static int HookedCalls;

        // Compiled once, fully optimized: no frame to speak of, and the loop head a few bytes in.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public static int Sum(int x)
        {
            var total = 0;
            for (var i = 0; i < x; i++)
            {
                total += i ^ x;
            }

            return total;
        }

        public static int Hooked(int x)
        {
            HookedCalls++;
            return ((delegate*<int, int>)Original)(x);
        }
    }
}
