using System.Diagnostics;
using System.Reflection;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Patches by writing a jump at the start of the target's compiled body, and keeps the patch through re-compilation
/// (tiering, PGO, re-JIT) by patching each new body from the JIT hook before it is published. The original is called
/// through a trampoline: the body's first instructions, relocated, then a jump back into the body.
/// </summary>
internal sealed unsafe class DetourEngine : IMethodPatcher
{
    /// <summary>
    /// How long a body found running at patch time is left alone before its start is rewritten: long enough for a
    /// thread that was preempted in its first instructions to have run on, short enough to be done before the
    /// runtime's call counting (100 ms after start-up activity) can point callers back at the body.
    /// </summary>
    private static readonly TimeSpan BodySettleTime = TimeSpan.FromMilliseconds(50);

    private readonly Lock _gate = new();
    private readonly List<Detour> _detours = [];
    private readonly Dictionary<nint, byte[]> _originalBytes = [];
    private RetargetWorker? _worker;

    public IReadOnlyList<PatchHandle> Patches
    {
        get
        {
            lock (_gate)
            {
                return [.. _detours.Select(d => d.Handle)];
            }
        }
    }

    public PatchHandle Patch(MethodBase target, MethodInfo replacement, string owner)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(replacement);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        lock (_gate)
        {
            PatchValidation.Validate(target, replacement);
            var existing = _detours.Find(d => d.Target.Equals(target));
            if (existing is not null)
            {
                throw new PatchException($"Cannot patch {existing.Name}: it is already patched by '{existing.Handle.Owner}'.");
            }

            JitHook.EnsureInstalled();
            _worker ??= StartWorker();
            foreach (var handle in PatchValidation.CompiledHandles(target))
            {
                JitHook.PreventInlining(handle);
            }

            // A method with no code yet cannot be running on any thread: its body can be patched at once.
            var hadCode = X64.FollowToBody(target.MethodHandle.GetFunctionPointer(), IsOurs) != 0;
            PatchValidation.Prepare(target);
            PatchValidation.Prepare(replacement);

            var detour = new Detour(target, replacement, owner, PatchValidation.CompiledHandles(target));
            var body = FindBody(detour);
            var original = OriginalBytesOf(body);
            detour.SetOriginal(BuildTrampoline(detour, body, original, X64.AbsoluteJumpLength));

            // From here on every new body of the target is patched as it is compiled.
            DetourTable.Add(detour);
            try
            {
                var slot = X64.PrecodeTargetSlot(detour.Target.MethodHandle.GetFunctionPointer());
                if (hadCode && slot != 0 && CallersUseEntrySlot(target))
                {
                    // The method may be running. Every caller jumps through the precode's target slot: pointing it
                    // at the replacement takes effect at once, in one store. The body's own jump waits until no
                    // thread can still be in the middle of its first instructions (it would resume inside the jump).
                    detour.RedirectedSlot = slot;
                    detour.PendingBody = (body, original, Stopwatch.GetTimestamp() + (long)(BodySettleTime.TotalSeconds * Stopwatch.Frequency));
                    Interlocked.Exchange(ref *(nint*)slot, detour.EntryStub);
                    _worker!.HasPending = true;
                }
                else
                {
                    WriteJump(body, original, detour.EntryStub);
                    detour.AddBody(new PatchedBody(body, original, X64.AbsoluteJumpLength));
                }
            }
            catch
            {
                DetourTable.Remove(detour);
                throw;
            }

            _detours.Add(detour);
            Interlocked.MemoryBarrierProcessWide();
            Sweep(detour);
            return detour.Handle;
        }
    }

    public void Remove(PatchHandle patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        lock (_gate)
        {
            var detour = _detours.Find(d => d.Handle == patch)
                ?? throw new InvalidOperationException($"{patch} is not in place (already removed?).");
            RemoveCore(detour);
        }
    }

    public int RemoveAll(string owner)
    {
        lock (_gate)
        {
            var owned = _detours.Where(d => d.Handle.Owner == owner).ToList();
            owned.ForEach(RemoveCore);
            return owned.Count;
        }
    }

    private void RemoveCore(Detour detour)
    {
        detour.Removed = true;
        DetourTable.Remove(detour);

        // Every patched body first leads to the original code, then gets its bytes back where one store can do it.
        detour.RedirectEntryStub(detour.OriginalStub);
        var bodies = detour.Bodies;
        var firstBody = detour.PendingBody?.Body ?? (bodies.Count > 0 ? bodies[0].Address : 0);
        if (detour.RedirectedSlot != 0 && firstBody != 0)
        {
            // Back to code that exists for good (a stub the slot held before may be gone by now).
            Interlocked.CompareExchange(ref *(nint*)detour.RedirectedSlot, firstBody, detour.EntryStub);
        }

        detour.PendingBody = null;
        Interlocked.MemoryBarrierProcessWide();
        foreach (var body in bodies)
        {
            if (IsAtomicallyWritable(body.Address))
            {
                using (CodeMemory.Unprotect(body.Address, X64.AtomicStoreLength))
                {
                    X64.Store16(body.Address, body.OriginalBytes.AsSpan(0, X64.AtomicStoreLength));
                }

                body.Restored = true;
            }
        }

        _detours.Remove(detour);
        detour.Handle.IsActive = false;
    }

    /// <summary>The target's current body, preparing it when the runtime has not set its code up yet.</summary>
    private nint FindBody(Detour detour)
    {
        var entry = detour.Target.MethodHandle.GetFunctionPointer();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var body = X64.FollowToBody(entry, address => detour.Contains(address) || IsOurs(address));
            if (body != 0)
            {
                return body;
            }

            // With immediate call counting the runtime publishes prepared code only on a second request.
            PatchValidation.Prepare(detour.Target);
        }

        throw new PatchException($"Cannot patch {detour.Name}: the runtime gave it no code even after preparing it.");
    }

    /// <summary>
    /// Whether every call goes through the method's precode: true for methods under tiered compilation, whose code
    /// the runtime replaces by updating that slot; false with tiering off, where callers may call the body directly.
    /// </summary>
    private static bool CallersUseEntrySlot(MethodBase target) =>
        Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0"
        && !(AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out var tiered) && !tiered)
        && (target.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) == 0;

    private bool IsPatchedBody(nint address) => _detours.Exists(d => d.Contains(address));

    /// <summary>A body this engine patched, or one of its stubs: the end of a walk from an entry point.</summary>
    private bool IsOurs(nint address) => _detours.Exists(d => d.Contains(address) || d.EntryStub == address || d.OriginalStub == address);

    /// <summary>A body's bytes as the runtime made them, even when this engine patched it before.</summary>
    private byte[] OriginalBytesOf(nint body)
    {
        if (!_originalBytes.TryGetValue(body, out var bytes))
        {
            bytes = new ReadOnlySpan<byte>((void*)body, X64.SavedPrologueLength).ToArray();
            _originalBytes[body] = bytes;
        }

        return bytes;
    }

    private static nint BuildTrampoline(Detour detour, nint body, byte[] original, int patchLength)
    {
        // Anywhere first; near the body when a relocated instruction needs to stay within 2 GiB of what it refers to.
        var size = X64.CoveredLength(original, body, patchLength) + 64;
        PatchException? farFailure;
        var trampoline = CodeMemory.Allocate(0, size);
        try
        {
            CodeMemory.WriteOwn(trampoline, X64.BuildTrampoline(original, body, patchLength, trampoline, detour.Name));
            return trampoline;
        }
        catch (PatchException ex)
        {
            farFailure = ex;
        }

        try
        {
            trampoline = CodeMemory.Allocate(body, size);
        }
        catch (PatchException)
        {
            throw farFailure;
        }

        CodeMemory.WriteOwn(trampoline, X64.BuildTrampoline(original, body, patchLength, trampoline, detour.Name));
        return trampoline;
    }

    /// <summary>
    /// Writes <c>jmp [stub]</c> (14 bytes) over the body's start: in one 16-byte store when the body is 16-byte
    /// aligned (JIT and ReadyToRun code is), so that a thread running it never sees half a jump.
    /// </summary>
    private static void WriteJump(nint body, byte[] original, nint stub)
    {
        Span<byte> code = stackalloc byte[X64.AtomicStoreLength];
        original.AsSpan(0, X64.AtomicStoreLength).CopyTo(code);
        X64.EncodeAbsoluteJump(code, stub);
        if (IsAtomicallyWritable(body))
        {
            using (CodeMemory.Unprotect(body, X64.AtomicStoreLength))
            {
                X64.Store16(body, code);
            }
        }
        else
        {
            CodeMemory.Write(body, code[..X64.AbsoluteJumpLength]);
        }
    }

    private static bool IsAtomicallyWritable(nint address) => (address & 15) == 0;

    private RetargetWorker StartWorker()
    {
        var worker = new RetargetWorker(OnNewBodyPublished, SweepAll);
        JitHook.BodyPatched = worker.Enqueue;
        return worker;
    }

    /// <summary>A body the JIT hook patched: once it runs, call the original there (its newest tier).</summary>
    private void OnNewBodyPublished(Detour detour, nint body, byte[] original, int patchLength)
    {
        var deadline = Stopwatch.StartNew();
        while (*(byte*)body != 0xFF)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                return;
            }

            Thread.Sleep(1);
        }

        lock (_gate)
        {
            if (detour.Removed)
            {
                return;
            }

            _originalBytes[body] = original;
            detour.SetOriginal(BuildTrampoline(detour, body, original, patchLength));
        }
    }

    private void SweepAll()
    {
        lock (_gate)
        {
            foreach (var detour in _detours)
            {
                Sweep(detour);
            }

            _worker!.HasPending = _detours.Exists(d => d.PendingBody is not null);
        }
    }

    /// <summary>Patches the method's current body if it reached the method without passing the JIT hook.</summary>
    private void Sweep(Detour detour)
    {
        if (detour.PendingBody is { } pending && Stopwatch.GetTimestamp() >= pending.NotBefore)
        {
            WriteJump(pending.Body, pending.Original, detour.EntryStub);
            detour.AddBody(new PatchedBody(pending.Body, pending.Original, X64.AbsoluteJumpLength));
            detour.PendingBody = null;
            Interlocked.MemoryBarrierProcessWide();
        }

        var body = X64.FollowToBody(detour.Target.MethodHandle.GetFunctionPointer(), IsOurs);
        if (body == 0 || IsOurs(body) || body == detour.PendingBody?.Body)
        {
            return;
        }

        var original = OriginalBytesOf(body);
        WriteJump(body, original, detour.EntryStub);
        detour.AddBody(new PatchedBody(body, original, X64.AbsoluteJumpLength));
        Interlocked.MemoryBarrierProcessWide();
    }
}
