using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Tells when every compilation that began before the JIT hook was in place has been published. Those are the
/// only bodies the hook never sees. Foreground compilations of a method end before preparing it returns, and OSR
/// bodies carry no jump, so what remains is the runtime's one tiering thread, which compiles
/// and publishes one method at a time. What it had in hand is published once it is seen compiling again (through
/// the hook), in a long timed wait (sleeping out the tiering delay or waiting for work: a compilation never
/// waits that way), or gone. A method called for the
/// first time starts the tiering delay, and a method called often enough is queued for tier-up: the barrier
/// calls such methods of its own so that one of these comes soon.
/// </summary>
internal static class TieringBarrier
{
    // ".NET Tiered Compilation Worker", as the kernel keeps it (15 characters); older runtimes named it ".NET Tiered JIT".
    private const string WorkerNamePrefix = ".NET Tiered ";
    private const long Futex = 202;
    private const long ClockNanosleep = 230;
    private const long Nanosleep = 35;
    private const int FutexWait = 0;
    private const int FutexWaitBitset = 9;
    private const int FutexClockRealtime = 256;
    private const long LongWaitNanoseconds = 5_000_000;

    private static readonly ManualResetEventSlim Passed = new();
    private static int s_started;

    /// <summary>Starts the barrier, once per process, right after the JIT hook went in.</summary>
    public static void Start()
    {
        if (Interlocked.Exchange(ref s_started, 1) == 0)
        {
            new Thread(Run) { IsBackground = true, Name = "ClusterContext tiering barrier" }.Start();
        }
    }

    /// <summary>Blocks until the barrier has passed; a barrier that cannot pass is an error, never a guess.</summary>
    public static void Wait(TimeSpan timeout)
    {
        if (!Passed.Wait(timeout))
        {
            throw new PatchException($"The runtime's tiering thread did not finish the compilation it had begun before patching started within {timeout.TotalSeconds:0} s; nothing was patched (set DOTNET_TieredCompilation=0 to run without tiered compilation).");
        }
    }

    private static bool AllWaiting(List<int> workers)
    {
        foreach (var worker in workers)
        {
            if (ProcFs.RunTime(worker) >= 0 && !IsInLongTimedWait(worker))
            {
                return false;
            }
        }

        return true;
    }

    private static void Run()
    {
        var round = 0;
        while (true)
        {
            var workers = new List<int>();
            foreach (var thread in ProcFs.Threads())
            {
                if (ProcFs.ThreadName(thread)?.StartsWith(WorkerNamePrefix, StringComparison.Ordinal) == true)
                {
                    workers.Add(thread);
                }
            }
            if (workers.Count == 0)
            {
                break;
            }

            JitHook.WatchThread(workers[0]);
            var deadline = Stopwatch.StartNew();
            var clear = false;
            while (!clear && deadline.Elapsed < TimeSpan.FromMilliseconds(500))
            {
                clear = JitHook.WatchedThreadCompiled || AllWaiting(workers);
                if (!clear)
                {
                    Drive(round++);
                    Thread.Sleep(1);
                }
            }

            if (clear)
            {
                break;
            }
        }

        JitHook.WatchThread(0);
        Passed.Set();
    }

    /// <summary>
    /// In a timed wait with more than a few milliseconds left: the runtime's sleep out of the tiering delay, or its
    /// wait for more work. A compilation never waits with a timeout that long (the runtime's spin-waits sleep 1 ms;
    /// its locks wait without a timeout).
    /// </summary>
    private static unsafe bool IsInLongTimedWait(int thread)
    {
        if (ProcFs.Blocked(thread) is not { Call: Futex or ClockNanosleep or Nanosleep } blocked || blocked.Arguments.Length < 4)
        {
            return false;
        }

        long remainingNanoseconds;
        if (blocked.Call == Futex)
        {
            var operation = (int)blocked.Arguments[1];
            var command = operation & 0x7F;
            var timeout = (long*)blocked.Arguments[3];
            if (timeout == null || command is not (FutexWait or FutexWaitBitset))
            {
                return false;
            }

            var deadline = timeout[0] * 1_000_000_000 + timeout[1];
            remainingNanoseconds = command == FutexWait ? deadline
                : (operation & FutexClockRealtime) != 0 ? deadline - (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100
                : deadline - Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency);
        }
        else
        {
            var request = (long*)(blocked.Call == Nanosleep ? blocked.Arguments[0] : blocked.Arguments[2]);
            var absolute = blocked.Call == ClockNanosleep && (blocked.Arguments[1] & 1) != 0;
            remainingNanoseconds = request == null ? 0 : request[0] * 1_000_000_000 + request[1] - (absolute ? Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency) : 0);
        }

        return remainingNanoseconds > LongWaitNanoseconds;
    }

    /// <summary>Gives the tiering thread something to do: a first call (starts the delay) and enough calls to be tiered up.</summary>
    private static void Drive(int round)
    {
        switch (round % 4)
        {
            case 0: Sentinel<byte>.Touch(round); break;
            case 1: Sentinel<short>.Touch(round); break;
            case 2: Sentinel<int>.Touch(round); break;
            default: Sentinel<long>.Touch(round); break;
        }

        for (var i = 0; i < 64; i++)
        {
            Sentinel<decimal>.Touch(i);
        }
    }

    private static class Sentinel<T>
        where T : struct
    {
        private static long s_sum;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Touch(int value)
        {
            for (var i = 0; i < (value & 7); i++)
            {
                s_sum += i ^ value;
            }

            s_sum += Unsafe.SizeOf<T>();
        }
    }
}
