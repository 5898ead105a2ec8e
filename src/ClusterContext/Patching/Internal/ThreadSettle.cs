using System.Diagnostics;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Waits until no thread can be part-way through the first instructions of a body about to get its jump. Callers
/// no longer enter those bodies (their entry was redirected first), so a thread is clear of them once it has run
/// on a CPU for a while since the redirect (a few instructions take nanoseconds; 10 µs is thousands of instructions), or once it is
/// blocked with its instruction pointer elsewhere. A thread preempted inside a prologue, however long, is waited for.
/// </summary>
internal static class ThreadSettle
{
    private const long EnoughRunTimeNanoseconds = 10_000;

    /// <summary>Returns false when some thread was still not clear after <paramref name="timeout"/>.</summary>
    public static bool WaitUntilClear(IReadOnlyList<(nint Start, int Length)> ranges, TimeSpan timeout)
    {
        var self = LibC.GetTid();
        var pending = new Dictionary<int, (long RunTime, long TimesRun)>();
        foreach (var thread in ProcFs.Threads())
        {
            if (thread != self)
            {
                pending[thread] = ProcFs.Schedule(thread);
            }
        }

        var deadline = Stopwatch.StartNew();
        var round = 0;
        while (true)
        {
            var clear = new List<int>();
            foreach (var (thread, atStart) in pending)
            {
                if (IsClear(thread, atStart, ranges))
                {
                    clear.Add(thread);
                }
            }

            foreach (var thread in clear)
            {
                pending.Remove(thread);
            }

            if (pending.Count == 0)
            {
                return true;
            }

            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            // Backing off: waking up often would itself keep the threads waited for off the CPU.
            Thread.Sleep(round++ == 0 ? 0 : Math.Min(1 << Math.Min(round, 3), 8));
        }
    }

    private static bool IsClear(int thread, (long RunTime, long TimesRun) atStart, IReadOnlyList<(nint Start, int Length)> ranges)
    {
        var now = ProcFs.Schedule(thread);
        if (now.RunTime < 0 || atStart.RunTime < 0 || now.RunTime - atStart.RunTime >= EnoughRunTimeNanoseconds || now.TimesRun > atStart.TimesRun)
        {
            return true;
        }

        // Blocked (in a system call, stopped, waiting on a page): where it will resume is known.
        if (ProcFs.Blocked(thread) is { } blocked)
        {
            var at = blocked.InstructionPointer;
            foreach (var (start, length) in ranges)
            {
                if (at > start && at < start + length)
                {
                    return false;
                }
            }

            return true;
        }

        return false;
    }
}
