using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// The managed parts of the compileMethod and allocMem thunks. A compilation ended by an exception (the runtime
/// throws from inside the JIT and its handler around compileMethod catches) never runs
/// <see cref="AfterCompilation"/>: its place in flight is found and freed later, and its ICorJitInfo, which dies
/// with it, keeps the shadow vtable, a complete copy that works as the original does.
/// </summary>
internal static unsafe partial class JitHook
{
    // The shadow is preceded by copies of the two words the C++ ABI keeps before a vtable (offset to top, type
    // information), so that it is a whole copy, whatever reads it.
    private const int ShadowHeader = 2;

    private static readonly nint[] s_flightComp = new nint[MaxConcurrentCompilations];
    private static readonly int[] s_flightThread = new int[MaxConcurrentCompilations];
    private static readonly nint[] s_flightFrame = new nint[MaxConcurrentCompilations];
    private static readonly nint[] s_flightExecutable = new nint[MaxConcurrentCompilations];
    private static readonly nint[] s_flightWritable = new nint[MaxConcurrentCompilations];
    private static nint s_jitInfoVtable;
    private static nint* s_shadowVtable;
    private static nint* s_preallocatedShadow;
    private static int s_shadowFilling;
    private static nint* s_allocMemCell;
    private static nint s_allocMemThunk;

    // No try/catch/finally in these: on .NET 10 an exception-handling clause in an UnmanagedCallersOnly method makes
    // its first call from native code compile it again, from inside this very hook, without end. The code below
    // cannot throw instead: it only reads tables, calls native code and writes into buffers it has checked.

    /// <summary>Before the JIT runs: returns non-zero when it must not (no ICorJitInfo: the warm-up call).</summary>
    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int BeforeCompilation(CompileFrame* frame)
    {
        frame->Slot = -1;
        frame->Result = 0;
        var comp = frame->Comp;
        if (comp == null)
        {
            return 1;
        }

        if (Volatile.Read(ref s_pendingNoInlineCount) > 0)
        {
            MarkPendingNotInlinable(comp);
        }

        var thread = s_getTid();
        var watched = Volatile.Read(ref s_watchedThread);
        if (watched != 0 && thread == watched)
        {
            Volatile.Write(ref s_watchedThreadCompiled, 1);
        }

        ReleaseEnded(thread, (nint)frame, (nint)comp);

        // Every compilation runs with the stand-in allocMem, so that whichever method it turns out to be, the hook
        // knows the JIT's writable copy of the body when it decides, after the JIT has finished.
        var vtable = *(nint*)comp;
        var shadow = ShadowVtableFor(vtable);
        if (shadow != null)
        {
            var slot = ClaimFlight(comp, thread, (nint)frame);
            if (slot >= 0)
            {
                frame->Slot = slot;
                frame->Vtable = Volatile.Read(ref s_jitInfoVtable);
                *(nint**)comp = shadow;
            }
        }

        return 0;
    }

    /// <summary>After the JIT has returned: decides about the body and returns the JIT's result.</summary>
    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int AfterCompilation(CompileFrame* frame)
    {
        var comp = frame->Comp;
        var result = frame->Result;
        if (comp == null)
        {
            return result;
        }

        nint executable = 0, writable = 0;
        var slot = frame->Slot;
        if (slot >= 0)
        {
            *(nint*)comp = frame->Vtable;
            executable = s_flightExecutable[slot];
            writable = s_flightWritable[slot];
            ReleaseFlight(slot);
        }

        if (result != 0)
        {
            return result;
        }

        // Record first, then look the method up (CompileLog explains why the order matters).
        var method = *(nint*)frame->Info;
        var nativeEntry = frame->NativeEntry;
        var nativeSize = *frame->NativeSize;
        var code = (nint)(*nativeEntry);
        var known = writable != 0 && executable == code;
        var record = CompileLog.Begin(method, code);
        var detour = DetourTable.Find(method);
        if (detour is null || detour.Removed)
        {
            CompileLog.Complete(record, known ? CompiledBodyState.Unpatched : CompiledBodyState.UnpatchedNoCopy, known ? writable : 0);
            return result;
        }

        if (IsOnStackReplacement(comp))
        {
            CompileLog.Complete(record, CompiledBodyState.Ignored, 0);
            return result;
        }

        if (!known)
        {
            Interlocked.Increment(ref MissedCompilations);
            CompileLog.Complete(record, CompiledBodyState.UnpatchedNoCopy, 0);
            return result;
        }

        var body = detour.PatchNewBody(executable, writable, nativeSize);
        CompileLog.Complete(record, CompiledBodyState.Patched, 0);
        if (body >= 0)
        {
            OnBodyPatched(detour, body);
        }

        if (Volatile.Read(ref s_holdMethod) == method)
        {
            Hold(executable, writable, nativeSize);
        }

        return result;
    }

    /// <summary>After the runtime's allocMem has returned (the allocMem thunk called it): notes where the body goes.</summary>
    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RecordAllocation(void* comp, void* args)
    {
        if (comp == null)
        {
            return;
        }

        var thread = s_getTid();
        for (var i = 0; i < MaxConcurrentCompilations; i++)
        {
            if (Volatile.Read(ref s_flightComp[i]) == (nint)comp && Volatile.Read(ref s_flightThread[i]) == thread)
            {
                s_flightExecutable[i] = *(nint*)((byte*)args + AllocMemHotCodeBlock);
                s_flightWritable[i] = *(nint*)((byte*)args + AllocMemHotCodeBlockRW);
                return;
            }
        }
    }

    /// <summary>
    /// Frees the places of this thread's compilations that an exception ended: every one whose frame lay at or below
    /// the new compilation's (the new one runs there now, so that frame is gone; a compilation this one is nested in
    /// lies above it), and one with the same ICorJitInfo (two live compilations cannot share one).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReleaseEnded(int thread, nint frame, nint comp)
    {
        // Only this thread writes places marked with its id (ReclaimEndedThreads leaves a live thread's alone).
        for (var i = 0; i < MaxConcurrentCompilations; i++)
        {
            if (Volatile.Read(ref s_flightThread[i]) == thread && (s_flightFrame[i] <= frame || Volatile.Read(ref s_flightComp[i]) == comp))
            {
                ReleaseFlight(i);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReleaseFlight(int slot)
    {
        Volatile.Write(ref s_flightThread[slot], 0);
        s_flightFrame[slot] = 0;
        s_flightExecutable[slot] = 0;
        s_flightWritable[slot] = 0;
        Volatile.Write(ref s_flightComp[slot], 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ClaimFlight(void* comp, int thread, nint frame)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            for (var i = 0; i < MaxConcurrentCompilations; i++)
            {
                if (Interlocked.CompareExchange(ref s_flightComp[i], (nint)comp, 0) == 0)
                {
                    s_flightFrame[i] = frame;
                    Volatile.Write(ref s_flightThread[i], thread);
                    return i;
                }
            }

            if (!ReclaimEndedThreads())
            {
                break;
            }
        }

        return -1;
    }

    /// <summary>
    /// All places taken: frees those of threads that no longer exist (an exception ended their last compilation and
    /// they compiled nothing after it). Returns whether any was freed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ReclaimEndedThreads()
    {
        if (s_tgkill == null)
        {
            return false;
        }

        var reclaimed = false;
        for (var i = 0; i < MaxConcurrentCompilations; i++)
        {
            var thread = Volatile.Read(ref s_flightThread[i]);
            var comp = Volatile.Read(ref s_flightComp[i]);
            // Signal 0 only asks whether the thread exists; a thread id is not reused while its thread lives. The
            // place is taken over (-1: no compilation claims or matches it) by one reclaimer only.
            if (thread != 0 && comp > 0 && s_tgkill(s_processId, thread, 0) != 0
                && Volatile.Read(ref s_flightThread[i]) == thread
                && Interlocked.CompareExchange(ref s_flightComp[i], -1, comp) == comp)
            {
                ReleaseFlight(i);
                reclaimed = true;
            }
        }

        return reclaimed;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsOnStackReplacement(void* comp)
    {
        // ICorJitInfo::getOSRInfo returns the patchpoint information only when this compilation is an OSR variant,
        // which the runtime enters in the middle of a loop: its entry is not the method's entry.
        uint ilOffset;
        var getOsrInfo = (delegate* unmanaged<void*, uint*, void*>)(*(nint**)comp)[GetOsrInfoSlot];
        return getOsrInfo(comp, &ilOffset) != null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nint* ShadowVtableFor(nint vtable)
    {
        var known = Volatile.Read(ref s_jitInfoVtable);
        if (known == vtable || (known != 0 && vtable == (nint)s_shadowVtable))
        {
            // An ICorJitInfo still carrying the shadow (its last compilation ended by an exception) is one of the
            // known kind; the original is what gets restored, never the shadow.
            return s_shadowVtable;
        }

        if (known != 0)
        {
            // A second ICorJitInfo implementation: not one this engine knows how to stand in for.
            return null;
        }

        // One compilation fills the copy; any other arriving meanwhile waits for it (a copy of 0xB0 pointers).
        if (Interlocked.CompareExchange(ref s_shadowFilling, 1, 0) != 0)
        {
            while (Volatile.Read(ref s_jitInfoVtable) == 0)
            {
                s_yield();
            }

            return Volatile.Read(ref s_jitInfoVtable) == vtable ? s_shadowVtable : null;
        }

        var shadow = s_preallocatedShadow;
        new ReadOnlySpan<nint>((void*)(vtable - (ShadowHeader * sizeof(nint))), JitInfoVtableLength + ShadowHeader)
            .CopyTo(new Span<nint>(shadow - ShadowHeader, JitInfoVtableLength + ShadowHeader));
        Volatile.Write(ref *s_allocMemCell, shadow[AllocMemSlot]);
        shadow[AllocMemSlot] = s_allocMemThunk;
        s_shadowVtable = shadow;
        Volatile.Write(ref s_jitInfoVtable, vtable);
        return shadow;
    }
}
