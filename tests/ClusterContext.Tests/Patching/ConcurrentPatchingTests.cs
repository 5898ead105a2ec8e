using System.Runtime.CompilerServices;
using ClusterContext.Patching;

namespace ClusterContext.Tests.Patching;

[Collection(PatchingGroup.Name)]
public sealed class ConcurrentPatchingTests
{
    [Fact]
    public void Patching_while_eight_threads_call_the_target_hooks_every_call_made_after_install()
    {
        var stop = false;
        var installed = 0;
        long callsAfterInstall = 0;
        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                var after = Volatile.Read(ref installed) == 1;
                HotTarget.Work(3);
                if (after)
                {
                    Interlocked.Increment(ref callsAfterInstall);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Thread.Sleep(200);

        var patch = MethodPatcher.Shared.Patch(typeof(HotTarget).GetMethod(nameof(HotTarget.Work))!, typeof(HotTarget).GetMethod(nameof(HotTarget.Hooked))!, "concurrent");
        HotTarget.Original = patch.Original;
        Interlocked.Exchange(ref HotTarget.HookedCalls, 0);
        Volatile.Write(ref installed, 1);
        Thread.Sleep(1000);
        Volatile.Write(ref stop, true);
        threads.ForEach(t => t.Join());
        MethodPatcher.Shared.Remove(patch);

        // Calls counted as "after install" started after the patch was complete, so each went through the hook
        // (the hook may also have seen calls that began just before the flag was set).
        Assert.True(callsAfterInstall > 10_000, $"only {callsAfterInstall} calls");
        Assert.True(Interlocked.Read(ref HotTarget.HookedCalls) >= callsAfterInstall, $"{HotTarget.HookedCalls} hooked < {callsAfterInstall} made");
    }

    private static unsafe class HotTarget
    {
        public static nint Original;
        public static long HookedCalls;

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
            Interlocked.Increment(ref HookedCalls);
            return Original == 0 ? 0 : ((delegate*<int, int>)Original)(x);
        }
    }
}
