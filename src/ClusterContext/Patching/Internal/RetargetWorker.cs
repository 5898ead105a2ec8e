using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Finishes what the JIT hook starts, on a thread of its own where allocating and locking are fine: once a newly
/// patched body is the one the method's entry leads to, it builds a trampoline for it so that the original is called
/// at its newest tier. It also sweeps the patched methods now and then as a safety net, and counts any body it has to
/// patch.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per process, for the life of the process.")]
internal sealed unsafe class RetargetWorker
{
    private const int QueueLength = 1024;
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long the worker sleeps while the JIT has compiled nothing since the last sweep: no method has a new body that
    /// the JIT hook could have missed, so the safety net can wait (a process at rest is woken every 2 s, not 4 times a second).
    /// </summary>
    private static readonly TimeSpan QuietInterval = TimeSpan.FromSeconds(2);

    /// <summary>How often bodies not yet published are looked at again.</summary>
    private static readonly TimeSpan PendingInterval = TimeSpan.FromMilliseconds(1);

    private readonly Detour?[] _queuedDetour = new Detour?[QueueLength];
    private readonly int[] _queuedBody = new int[QueueLength];
    private readonly AutoResetEvent _wake = new(false);
    private readonly Func<Detour, int, TimeSpan, bool> _retarget;
    private readonly Action _sweep;
    private readonly List<(Detour Detour, int Body, Stopwatch Since)> _pending = [];
    private long _written;
    private long _read;
    private long _examined;

    /// <param name="retarget">Called with a patched body (its slot in the detour) and how long it has waited; true once nothing more is to be done for it.</param>
    /// <param name="sweep">The safety net, run every quarter second while methods are being compiled.</param>
    public RetargetWorker(Func<Detour, int, TimeSpan, bool> retarget, Action sweep)
    {
        _retarget = retarget;
        _sweep = sweep;
        RuntimeHelpers.PrepareMethod(typeof(RetargetWorker).GetMethod(nameof(Enqueue))!.MethodHandle);
        new Thread(Run) { IsBackground = true, Name = "ClusterContext patch upkeep" }.Start();
    }

    /// <summary>How many times a queued body has been looked at (for tests that wait until the worker had its chance).</summary>
    public long Examined => Interlocked.Read(ref _examined);

    /// <summary>Called from the JIT hook: records the body in a fixed ring, no allocation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Enqueue(Detour detour, int body)
    {
        var position = Interlocked.Increment(ref _written) - 1;
        var index = (int)(position % QueueLength);
        _queuedBody[index] = body;
        Volatile.Write(ref _queuedDetour[index], detour);
        _wake.Set();
    }

    private void Run()
    {
        var sinceSweep = Stopwatch.StartNew();
        var compiledAtSweep = -1L;
        while (true)
        {
            var quiet = System.Runtime.JitInfo.GetCompiledMethodCount() == compiledAtSweep;
            _wake.WaitOne(_pending.Count > 0 ? PendingInterval : quiet ? QuietInterval : SweepInterval);
            while (_read < Volatile.Read(ref _written))
            {
                var index = (int)(_read % QueueLength);
                var detour = Volatile.Read(ref _queuedDetour[index]);
                if (detour is null)
                {
                    // The writer has claimed the slot but not filled it yet.
                    Thread.Yield();
                    continue;
                }

                _queuedDetour[index] = null;
                _read++;
                _pending.Add((detour, _queuedBody[index], Stopwatch.StartNew()));
            }

            // A body is used for the original only once the runtime calls it too: until it is published, the runtime
            // may still be copying it into place, past the first bytes (a call into it then runs half-copied code).
            _pending.RemoveAll(p => Safely(() => _retarget(p.Detour, p.Body, p.Since.Elapsed)));
            Interlocked.Increment(ref _examined);

            if (sinceSweep.Elapsed >= SweepInterval)
            {
                // Counted before the sweep: what is compiled while it runs makes the next one come soon.
                compiledAtSweep = System.Runtime.JitInfo.GetCompiledMethodCount();
                Safely(() =>
                {
                    _sweep();
                    return true;
                });
                sinceSweep.Restart();
            }
        }
    }

    private static bool Safely(Func<bool> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is PatchException or InvalidOperationException or ArgumentException)
        {
            // The patch stays in place with the previous trampoline; the sweep looks at the method again.
            return true;
        }
    }
}
