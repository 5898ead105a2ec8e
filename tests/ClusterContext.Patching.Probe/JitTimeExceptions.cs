using System.Diagnostics;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// Exceptions the runtime raises while the JIT is compiling a method (a callee's assembly is missing, a method or
/// type is missing) pass through the JIT hook's frame on their way from the runtime, through the JIT, back to the
/// runtime's own handler around the compilation. With the JIT hook installed they must still reach the caller's
/// catch as they do without it (a frame the unwinder cannot pass ends the process: "terminate called after throwing
/// an instance of 'PAL_SEHException'"), and the hook must not lose track of the compilations they ended: a patched
/// method re-compiled after many of them still gets its patch. Exit code 0 when all of that holds.
/// </summary>
public static class JitTimeExceptions
{
    private const int Rounds = 100;
    private const int ShortLivedThreads = 80;
    private const int ConcurrentThreads = 4;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    public static int Run()
    {
        // The single-method probe's target and replacement (each probe mode runs in a process of its own).
        var expected = SingleMethod.Target(5) * 10;
        var target = typeof(SingleMethod).GetMethod(nameof(SingleMethod.Target))!;
        var patch = MethodPatcher.Shared.Patch(target, typeof(SingleMethod).GetMethod(nameof(SingleMethod.Replacement))!, "jit-exceptions");
        SingleMethod.Original = patch.Original;
        var detour = DetourTable.Find(target.MethodHandle.Value)!;
        var failing = FailingCalls.Build();
        var calls = new[] { failing.MissingAssembly, failing.MissingMethod, failing.MissingType };
        var pass = true;

        // One of each, then whether a patched method still reaches its replacement.
        foreach (var call in calls)
        {
            Console.WriteLine($"caught {Catch(call)}");
        }

        var first = SingleMethod.Target(5);
        Console.WriteLine($"after the first exceptions: patched call {(first == expected ? "reaches the replacement, ok" : $"returned {first}, NOT the replacement")}");
        pass &= first == expected;

        // Many more than the hook has places for compilations in flight (64), on this thread and on threads that end
        // right after their exception.
        var caught = new Dictionary<string, int>();
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var call in calls)
            {
                var name = Catch(call);
                caught[name] = caught.GetValueOrDefault(name) + 1;
            }
        }

        for (var i = 0; i < ShortLivedThreads; i++)
        {
            var name = "";
            var thread = new Thread(() => name = Catch(calls[0]));
            thread.Start();
            thread.Join();
            caught[name] = caught.GetValueOrDefault(name) + 1;
        }

        // And from several threads at once, each compilation's place in flight claimed and freed beside the others'.
        var concurrent = Enumerable.Range(0, ConcurrentThreads).Select(_ => new Thread(() =>
        {
            var mine = new Dictionary<string, int>();
            for (var round = 0; round < Rounds / ConcurrentThreads; round++)
            {
                foreach (var call in calls)
                {
                    var name = Catch(call);
                    mine[name] = mine.GetValueOrDefault(name) + 1;
                }
            }

            lock (caught)
            {
                foreach (var (name, count) in mine)
                {
                    caught[name] = caught.GetValueOrDefault(name) + count;
                }
            }
        })).ToList();
        concurrent.ForEach(t => t.Start());
        concurrent.ForEach(t => t.Join());

        Console.WriteLine($"caught in all: {string.Join(", ", caught.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"))}");
        pass &= caught.GetValueOrDefault(nameof(FileNotFoundException)) == (2 * Rounds) + ShortLivedThreads
            && caught.GetValueOrDefault(nameof(MissingMethodException)) == 2 * Rounds
            && caught.GetValueOrDefault(nameof(TypeLoadException)) == 2 * Rounds;

        // The patched method, called until the runtime has re-compiled it (tier 1, or the instrumented tier first)
        // and then some more: every call must reach the replacement.
        // (Without tiered compilation nothing is re-compiled: the calls are checked for a moment.)
        var tiered = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0";
        var bodiesBefore = detour.Bodies.Count;
        var made = 0L;
        var wrong = 0L;
        var seenBefore = Interlocked.Read(ref SingleMethod.Seen);
        var waited = Stopwatch.StartNew();
        var recompiledAt = TimeSpan.Zero;
        while (waited.Elapsed < (tiered ? Patience : TimeSpan.FromMilliseconds(300)) && (recompiledAt == TimeSpan.Zero || waited.Elapsed < recompiledAt + TimeSpan.FromMilliseconds(500)))
        {
            for (var i = 0; i < 10_000; i++)
            {
                wrong += SingleMethod.Target(5) == expected ? 0 : 1;
            }

            made += 10_000;
            if (recompiledAt == TimeSpan.Zero && detour.Bodies.Count > bodiesBefore)
            {
                recompiledAt = waited.Elapsed;
            }
        }

        var seen = Interlocked.Read(ref SingleMethod.Seen) - seenBefore;
        var recompiled = detour.Bodies.Count > bodiesBefore;
        Console.WriteLine($"re-compiled after the exceptions: {(recompiled ? "yes" : tiered ? "NO" : "no, not tiered")} (bodies {bodiesBefore} -> {detour.Bodies.Count}); calls={made} seen={seen} wrong={wrong}");
        Console.WriteLine(EngineReport.Describe());
        pass &= (recompiled || !tiered) && seen == made && wrong == 0 && EngineReport.Clean;
        MethodPatcher.Shared.Remove(patch);
        Console.WriteLine(pass ? "RESULT: PASS" : "RESULT: FAIL");
        return pass ? 0 : 1;
    }

    private static string Catch(Func<int> call)
    {
        try
        {
            return $"nothing, returned {call()}";
        }
        catch (Exception exception) when (exception is FileNotFoundException or MissingMethodException or TypeLoadException)
        {
            return exception.GetType().Name;
        }
    }
}
