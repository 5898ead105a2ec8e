using System.Runtime.CompilerServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Every body the JIT hook sees leave the JIT, with what the hook decided for it, in a fixed ring readable without
/// locks. It closes the window between the hook's check ("is this method patched?") and an install: the hook
/// records the body, then checks; an install marks the method, then reads the ring. With a full fence on both
/// sides at least one of them sees the other, so a body is either patched before the runtime publishes it or
/// found here by the install, which patches it where it runs.
/// </summary>
internal static unsafe class CompileLog
{
    /// <summary>Records kept; far more compilations than can happen while one install reads the ring.</summary>
    public const int Capacity = 8192;

    /// <summary>Bytes of a body's start kept, to tell when the runtime has copied the JIT's buffer into place.</summary>
    public const int StartLength = 16;

    private static long s_written;
    private static readonly long[] Tags = new long[Capacity];
    private static readonly nint[] Methods = new nint[Capacity];
    private static readonly nint[] Code = new nint[Capacity];
    private static readonly int[] States = new int[Capacity];
    private static readonly byte[] Starts = new byte[Capacity * StartLength];

    /// <summary>Claims a record for a body that just left the JIT and makes it visible before the caller looks the method up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Begin(nint method, nint code)
    {
        var sequence = Interlocked.Increment(ref s_written) - 1;
        var index = (int)(sequence & (Capacity - 1));
        Volatile.Write(ref Tags[index], 0);
        Methods[index] = method;
        Code[index] = code;
        Volatile.Write(ref States[index], (int)CompiledBodyState.Deciding);
        Volatile.Write(ref Tags[index], sequence + 1);
        Interlocked.MemoryBarrier();
        return sequence;
    }

    /// <summary>What the hook did with the body; <paramref name="start"/> is the body's start as the JIT wrote it (0 when unknown).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Complete(long sequence, CompiledBodyState state, nint start)
    {
        var index = (int)(sequence & (Capacity - 1));
        if (start != 0)
        {
            new ReadOnlySpan<byte>((void*)start, StartLength).CopyTo(Starts.AsSpan(index * StartLength, StartLength));
        }

        Volatile.Write(ref States[index], (int)state);
    }

    /// <summary>
    /// The bodies of <paramref name="methods"/> recorded so far that the hook let through unpatched, read after the
    /// methods were marked as patched (the caller's full fence). Waits for records still being decided. The oldest
    /// records may be written over meanwhile: thousands of compilations ago, their bodies were published long since,
    /// and the one that is the method's entry is found by following the entry.
    /// </summary>
    public static List<CompiledBody> UnpatchedBodiesOf(IReadOnlyList<nint> methods)
    {
        Interlocked.MemoryBarrier();
        var end = Volatile.Read(ref s_written);
        var found = new List<CompiledBody>();
        for (var sequence = end - 1; sequence >= Math.Max(0, end - Capacity); sequence--)
        {
            var index = (int)(sequence & (Capacity - 1));
            var spin = new SpinWait();
            while (true)
            {
                var tag = Volatile.Read(ref Tags[index]);
                if (tag > sequence + 1)
                {
                    // Written over by a newer compilation while the log was read.
                    break;
                }

                var state = (CompiledBodyState)Volatile.Read(ref States[index]);
                if (tag == sequence + 1 && state != CompiledBodyState.Deciding)
                {
                    if (state is CompiledBodyState.Unpatched or CompiledBodyState.UnpatchedNoCopy && methods.Contains(Volatile.Read(ref Methods[index])))
                    {
                        found.Add(new CompiledBody(Code[index], state == CompiledBodyState.Unpatched ? Starts.AsSpan(index * StartLength, StartLength).ToArray() : null));
                    }

                    break;
                }

                // Claimed by a compilation that has not finished writing it (a few instructions away, or preempted).
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        return found;
    }

    /// <summary>Compiles and initialises what the hook calls, before it is in place.</summary>
    public static void WarmUp()
    {
        RuntimeHelpers.PrepareMethod(typeof(CompileLog).GetMethod(nameof(Begin))!.MethodHandle);
        RuntimeHelpers.PrepareMethod(typeof(CompileLog).GetMethod(nameof(Complete))!.MethodHandle);
        _ = Volatile.Read(ref s_written) + Tags.Length + Methods.Length + Code.Length + States.Length + Starts.Length;
    }
}
