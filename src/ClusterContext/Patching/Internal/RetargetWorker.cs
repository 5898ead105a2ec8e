using System.Runtime.CompilerServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Finishes what the JIT hook starts, on a thread of its own where allocating and locking are fine: once a newly
/// patched body is published, it builds a trampoline for it so that the original is called at its newest tier.
/// It also sweeps the patched methods now and then as a safety net, and counts any body it has to patch.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per process, for the life of the process.")]
internal sealed unsafe class RetargetWorker
{
    private const int QueueLength = 1024;
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(250);

    private readonly Detour?[] _queuedDetour = new Detour?[QueueLength];
    private readonly int[] _queuedBody = new int[QueueLength];
    private readonly AutoResetEvent _wake = new(false);
    private readonly Action<Detour, nint, byte[], int> _retarget;
    private readonly Action _sweep;
    private long _written;
    private long _read;

    public RetargetWorker(Action<Detour, nint, byte[], int> retarget, Action sweep)
    {
        _retarget = retarget;
        _sweep = sweep;
        RuntimeHelpers.PrepareMethod(typeof(RetargetWorker).GetMethod(nameof(Enqueue))!.MethodHandle);
        new Thread(Run) { IsBackground = true, Name = "ClusterContext patch upkeep" }.Start();
    }

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
        while (true)
        {
            _wake.WaitOne(SweepInterval);
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
                if (!detour.Removed)
                {
                    var (address, bytes, length) = detour.JitBody(_queuedBody[index]);
                    Safely(() => _retarget(detour, address, bytes, length));
                }
            }

            Safely(_sweep);
        }
    }

    private static void Safely(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is PatchException or InvalidOperationException or ArgumentException)
        {
            // The patch stays in place with the previous trampoline; the next sweep tries again.
        }
    }
}
