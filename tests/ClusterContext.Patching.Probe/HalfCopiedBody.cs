using System.Diagnostics;
using System.Runtime.CompilerServices;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// A re-compiled body of a patched method, caught the moment the runtime has copied only its first bytes into place
/// (the tiering thread is held in the JIT hook, and the probe copies those bytes itself, as the runtime's copy begins
/// with them): the original must still run in the previous body, since a call into the new one would run the
/// rest of it before it is there. Once released, the runtime publishes the body and the original moves to it.
/// </summary>
internal static unsafe class HalfCopiedBody
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static long s_seen;
    private static nint s_original;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Target(int x)
    {
        var total = 0;
        for (var i = 0; i < (x & 7); i++)
        {
            total += i ^ x;
        }

        return total + x;
    }

    /// <summary><see cref="Target"/>'s result, worked out without calling it (each call moves it towards its next tier).</summary>
    private static int Expected(int x) => Enumerable.Range(0, x & 7).Sum(i => i ^ x) + x + 1;

    public static int Replacement(int x)
    {
        Interlocked.Increment(ref s_seen);
        return ((delegate*<int, int>)s_original)(x) + 1;
    }

    public static int Run()
    {
        var target = typeof(HalfCopiedBody).GetMethod(nameof(Target))!;
        var expected = Enumerable.Range(0, 64).Select(Expected).ToArray();
        var patch = MethodPatcher.Shared.Patch(target, typeof(HalfCopiedBody).GetMethod(nameof(Replacement))!, "half-copied");
        s_original = patch.Original;
        var detour = DetourTable.Find(target.MethodHandle.Value)!;
        Console.WriteLine($"installed; the original runs in 0x{detour.OriginalBody:x}");

        JitHook.HoldNextPatchedCompilation(target.MethodHandle.Value);
        var wrong = 0;
        var waited = Stopwatch.StartNew();
        while (JitHook.Held is null)
        {
            wrong += CallAll(expected);
            if (waited.Elapsed > Patience)
            {
                Console.WriteLine("RESULT: FAIL (the runtime did not re-compile the target)");
                return 2;
            }
        }

        var held = JitHook.Held.Value;
        CodeMemory.Write(held.Executable, new ReadOnlySpan<byte>((void*)held.Writable, X64.AtomicStoreLength));
        var worker = DetourEngine.Worker!;
        var examined = worker.Examined;
        while (worker.Examined < examined + 3)
        {
            Thread.Yield();
        }

        var early = detour.OriginalBody == held.Executable;
        Console.WriteLine($"new body 0x{held.Executable:x} ({held.Size} bytes), first {X64.AtomicStoreLength} in place: the original runs in {(early ? "it: too early" : "the previous body, ok")}");
        JitHook.ReleaseHeld();

        waited.Restart();
        while (detour.OriginalBody != held.Executable && waited.Elapsed < Patience)
        {
            wrong += CallAll(expected);
        }

        var moved = detour.OriginalBody == held.Executable;
        wrong += CallAll(expected);
        Console.WriteLine($"published: the original runs in {(moved ? "the new body, ok" : $"0x{detour.OriginalBody:x}, NOT the new body")}");
        Console.WriteLine($"calls: seen={Interlocked.Read(ref s_seen)} wrong={wrong}");
        var pass = !early && moved && wrong == 0;
        Console.WriteLine(pass ? "RESULT: PASS" : "RESULT: FAIL");
        return pass ? 0 : 1;
    }

    private static int CallAll(int[] expected)
    {
        var wrong = 0;
        for (var x = 0; x < expected.Length; x++)
        {
            wrong += Target(x) == expected[x] ? 0 : 1;
        }

        return wrong;
    }
}
