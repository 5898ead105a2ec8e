using System.Runtime.CompilerServices;
using ClusterContext.Patching;

namespace ClusterContext.Tests.Patching;

[Collection(PatchingGroup.Name)]
public sealed class ConcurrentPatchingTests
{
    [Fact]
    public void Patching_while_eight_threads_call_the_target_hooks_every_call_made_after_install()
    {
        var stop = 0;
        var installed = 0;
        long callsAfterInstall = 0;
        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            long counted = 0;
            while (Volatile.Read(ref stop) == 0)
            {
                var after = Volatile.Read(ref installed) == 1;
                HotTarget.Counted = after;
                HotTarget.Work(3);
                if (after)
                {
                    counted++;
                }
            }

            Interlocked.Add(ref callsAfterInstall, counted);
        })).ToList();
        threads.ForEach(t => t.Start());

        // Long enough for the target to be queued for tier-up (this assembly is optimized, so it is tiered).
        Thread.Sleep(200);
        var patch = MethodPatcher.Shared.Patch(
            [(typeof(HotTarget).GetMethod(nameof(HotTarget.Work))!, typeof(HotTarget).GetMethod(nameof(HotTarget.Hooked))!)],
            "concurrent",
            patches => HotTarget.Original = patches[0].Original)[0];
        Volatile.Write(ref installed, 1);
        Thread.Sleep(1000);
        Volatile.Write(ref stop, 1);
        threads.ForEach(t => t.Join());
        MethodPatcher.Shared.Remove(patch);

        // A call counts when its thread saw the install complete before making it; the hook counts exactly those.
        Assert.True(callsAfterInstall > 10_000, $"only {callsAfterInstall} calls");
        Assert.Equal(callsAfterInstall, Interlocked.Read(ref HotTarget.HookedCalls));
    }

    private static unsafe class HotTarget
    {
        public static nint Original;
        public static long HookedCalls;

        [ThreadStatic]
        public static bool Counted;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Work(int x)
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
            if (Counted)
            {
                Interlocked.Increment(ref HookedCalls);
            }

            return ((delegate*<int, int>)Original)(x);
        }
    }
}
