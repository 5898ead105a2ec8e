using System.Runtime.CompilerServices;

namespace ClusterContext.Patching.Probe;

internal static unsafe class SingleMethod
{
    public static long Seen;
    public static nint Original;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Target(int x)
    {
        var total = 0;
        for (var i = 0; i < (x & 3); i++)
        {
            total += i * x;
        }

        return total + x + 1;
    }

    public static int Replacement(int x)
    {
        Interlocked.Increment(ref Seen);
        return ((delegate*<int, int>)Original)(x) * 10;
    }

    public static int Run()
    {
        Console.WriteLine($"before: {Target(5)}");
        var patch = MethodPatcher.Shared.Patch(typeof(SingleMethod).GetMethod(nameof(Target))!, typeof(SingleMethod).GetMethod(nameof(Replacement))!, "single");
        Original = patch.Original;
        Console.WriteLine($"patched: {Target(5)} seen={Seen}");
        long sum = 0;
        for (var i = 0; i < 2_000_000; i++)
        {
            sum += Target(i);
        }

        Console.WriteLine($"after 2M calls: seen={Seen} sum={sum}");
        MethodPatcher.Shared.Remove(patch);
        Console.WriteLine($"removed: {Target(5)}");
        return 0;
    }
}
