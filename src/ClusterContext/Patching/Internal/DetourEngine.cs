using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Patches by writing a jump at the start of the target's compiled body, and keeps the patch through re-compilation
/// (tiering, PGO, re-JIT) by patching each new body from the JIT hook before it is published. The original is called
/// through a trampoline: the body's first instructions, relocated, then a jump back into the body.
/// </summary>
internal sealed unsafe class DetourEngine : IMethodPatcher
{
    /// <summary>Longer than the tiering thread can stay idle before it exits (4 s), after which nothing can be in flight.</summary>
    private static readonly TimeSpan BarrierTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long an install waits for every thread to be clear of the bodies' first instructions.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(2);

    private static int s_unsettledWrites;
    private static int s_sweepRepairs;
    private static int s_bodiesKeptAsOriginal;

    private readonly Lock _gate = new();
    private readonly List<Detour> _detours = [];
    private readonly Dictionary<nint, byte[]> _originalBytes = [];
    private readonly Dictionary<nint, int> _patchLengths = [];
    private readonly HashSet<nint> _reserved = [];
    private RetargetWorker? _worker;

    /// <summary>The upkeep thread of the engine that started one (for tests).</summary>
    internal static RetargetWorker? Worker { get; private set; }

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

    public PatchHandle Patch(MethodBase target, MethodInfo replacement, string owner) => Patch([(target, replacement)], owner)[0];

    public void Reserve(IEnumerable<MethodBase> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        lock (_gate)
        {
            JitHook.EnsureInstalled();
            var added = false;
            foreach (var target in targets)
            {
                foreach (var handle in PatchValidation.CompiledHandles(target))
                {
                    if (_reserved.Add(handle))
                    {
                        JitHook.PreventInlining(handle);
                        added = true;
                    }
                }
            }

            if (added)
            {
                JitHook.ApplyPendingMarks();
            }

            // Started once the marks hold: what the tiering thread compiles from then on inlines none of the targets.
            TieringBarrier.Start();
        }
    }

    public IReadOnlyList<PatchHandle> Patch(IReadOnlyList<(MethodBase Target, MethodInfo Replacement)> patches, string owner, Action<IReadOnlyList<PatchHandle>>? beforeActivation = null)
    {
        ArgumentNullException.ThrowIfNull(patches);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return Patch([new PatchSet(patches, owner, beforeActivation)])[0];
    }

    public IReadOnlyList<IReadOnlyList<PatchHandle>> Patch(IReadOnlyList<PatchSet> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        lock (_gate)
        {
            var named = new HashSet<MethodBase>();
            foreach (var set in sets)
            {
                ArgumentNullException.ThrowIfNull(set);
                ArgumentException.ThrowIfNullOrEmpty(set.Owner);
                foreach (var (target, replacement) in set.Patches)
                {
                    ArgumentNullException.ThrowIfNull(target);
                    ArgumentNullException.ThrowIfNull(replacement);
                    PatchValidation.Validate(target, replacement);
                    var existing = _detours.Find(d => d.Target.Equals(target));
                    if (existing is not null)
                    {
                        throw new PatchException($"Cannot patch {existing.Name}: it is already patched by '{existing.Handle.Owner}'.");
                    }

                    if (!named.Add(target))
                    {
                        throw new PatchException($"Cannot patch {target.DeclaringType?.FullName}.{target.Name}: it is named twice in one install; name each method once.");
                    }
                }
            }

            JitHook.EnsureInstalled();
            TieringBarrier.Start();
            _worker ??= StartWorker();

            // A compilation that began before the JIT hook was in place is the one kind of body the hook never sees.
            TieringBarrier.Wait(BarrierTimeout);
            var installs = new List<PendingInstall>();
            var handles = new List<IReadOnlyList<PatchHandle>>(sets.Count);
            foreach (var set in sets)
            {
                var prepared = new List<PatchHandle>(set.Patches.Count);
                foreach (var (target, replacement) in set.Patches)
                {
                    var install = Prepare(target, replacement, set.Owner);
                    installs.Add(install);
                    prepared.Add(install.Detour.Handle);
                }

                handles.Add(prepared);
            }

            for (var i = 0; i < sets.Count; i++)
            {
                sets[i].BeforeActivation?.Invoke(handles[i]);
            }

            // From here on every new body of the targets is patched as it leaves the JIT; bodies that left it before
            // are in the compile log (read after this point, see CompileLog).
            installs.ForEach(i => DetourTable.Add(i.Detour));
            try
            {
                Install(installs);
            }
            catch
            {
                installs.ForEach(i => DetourTable.Remove(i.Detour));
                throw;
            }

            foreach (var install in installs)
            {
                _detours.Add(install.Detour);
            }

            Interlocked.MemoryBarrierProcessWide();
            return handles;
        }
    }

    private PendingInstall Prepare(MethodBase target, MethodInfo replacement, string owner)
    {
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
        detour.SetOriginal(BuildTrampoline(detour, body, original, PatchLengthOf(detour, body)), body, -1);
        return new PendingInstall(detour, body, hadCode);
    }

    /// <summary>
    /// Writes the jump into every body a call can reach: the current one and any the compile log holds. Returns once
    /// the method's entry leads to a patched body, or throws.
    /// </summary>
    private void Install(List<PendingInstall> installs)
    {
        var waiting = new List<(Detour Detour, nint Body)>();
        foreach (var install in installs)
        {
            var detour = install.Detour;
            var bodies = new List<nint> { install.Body };
            var logged = CompileLog.UnpatchedBodiesOf(detour.MethodHandles);

            // A body whose writable copy was unknown cannot be told apart from its not-yet-copied place: not vouched for.
            foreach (var body in logged)
            {
                if (body.Start is null)
                {
                    Interlocked.Increment(ref JitHook.MissedCompilations);
                    continue;
                }

                WaitForCopy(detour, body);
                if (!bodies.Contains(body.Address))
                {
                    bodies.Add(body.Address);
                }
            }

            var slot = X64.PrecodeTargetSlot(detour.Target.MethodHandle.GetFunctionPointer());
            if (install.HadCode && slot != 0 && CallersUseEntrySlot(detour.Target))
            {
                // The method may be running. Every caller jumps through the precode's target slot: pointing it at the
                // replacement takes effect at once, in one store. The bodies' own jumps wait until no thread can still
                // be part-way through their first instructions (it would resume inside the jump).
                detour.RedirectedSlot = slot;
                Interlocked.Exchange(ref *(nint*)slot, detour.EntryStub);
                foreach (var body in bodies)
                {
                    waiting.Add((detour, body));
                }
            }
            else
            {
                foreach (var body in bodies)
                {
                    PatchBody(detour, body);
                }
            }
        }

        if (waiting.Count > 0)
        {
            Interlocked.MemoryBarrierProcessWide();
            var ranges = new (nint Start, int Length)[waiting.Count];
            for (var i = 0; i < ranges.Length; i++)
            {
                ranges[i] = (waiting[i].Body, X64.AtomicStoreLength);
            }

            if (!ThreadSettle.WaitUntilClear(ranges, SettleTimeout))
            {
                Interlocked.Increment(ref s_unsettledWrites);
            }

            foreach (var (detour, body) in waiting)
            {
                PatchBody(detour, body);
            }
        }

        Interlocked.MemoryBarrierProcessWide();
        foreach (var install in installs)
        {
            EnsureEntryPatched(install.Detour);
        }
    }

    /// <summary>The runtime may have moved the entry on meanwhile (call counting, a tier published): it must lead to a patched body.</summary>
    private void EnsureEntryPatched(Detour detour)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var body = X64.FollowToBody(detour.Target.MethodHandle.GetFunctionPointer(), IsOursOrInstalling(detour));
            if (body == 0 || detour.Contains(body) || body == detour.EntryStub)
            {
                return;
            }

            // A body that reached the entry without passing the hook: only one the hook could not see does.
            Interlocked.Increment(ref JitHook.MissedCompilations);
            PatchBody(detour, body);
        }

        throw new PatchException($"Cannot patch {detour.Name}: the runtime kept publishing code for it that did not pass the JIT hook, three times over. Nothing else was changed; run with DOTNET_TieredCompilation=0 to work around it, and report the runtime version ({RuntimeInformation.FrameworkDescription}).");
    }

    private Func<nint, bool> IsOursOrInstalling(Detour detour) => address => IsOurs(address) || detour.Contains(address) || detour.EntryStub == address;

    private void PatchBody(Detour detour, nint body)
    {
        if (detour.Contains(body))
        {
            return;
        }

        var original = OriginalBytesOf(body);
        var length = PatchLengthOf(detour, body);
        WriteJump(body, original, detour.EntryStub, length);
        detour.AddBody(new PatchedBody(body, original, length));
    }

    /// <summary>
    /// How many bytes of the body its jump takes: 14 (<c>jmp [rip]</c> and the target), or 5 (<c>jmp rel32</c> to a
    /// thunk nearby) when the body's own branches land within its first 14 bytes but not its first 5. A loop that
    /// starts sooner than that cannot carry a patch at all.
    /// </summary>
    private int PatchLengthOf(Detour detour, nint body)
    {
        if (!_patchLengths.TryGetValue(body, out var length))
        {
            var target = InnerBranches.LowestTarget(body, 0, OriginalBytesOf(body), X64.AbsoluteJumpLength);
            length = target < 0 ? X64.AbsoluteJumpLength
                : target >= X64.RelativeJumpLength ? X64.RelativeJumpLength
                : throw new PatchException($"Cannot patch {detour.Name}: its compiled code at 0x{body:x} branches back to its byte {target}, inside the {X64.RelativeJumpLength} bytes the shortest jump takes; nothing was changed. Patch a method that calls it, or mark it [MethodImpl(MethodImplOptions.NoOptimization)] when it is yours.");
            _patchLengths[body] = length;
        }

        return length;
    }

    /// <summary>A logged body is patched where it runs, once the runtime has copied it there from the JIT's buffer.</summary>
    private static void WaitForCopy(Detour detour, CompiledBody body)
    {
        var spin = new SpinWait();
        var deadline = Stopwatch.StartNew();
        while (!new ReadOnlySpan<byte>((void*)body.Address, CompileLog.StartLength).SequenceEqual(body.Start))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new PatchException($"Cannot patch {detour.Name}: code the JIT compiled for it just before the install never reached its place at 0x{body.Address:x} within 10 s (the runtime may have abandoned it). Try again; DOTNET_TieredCompilation=0 avoids re-compilation altogether.");
            }

            spin.SpinOnce();
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
        var firstBody = bodies.Count > 0 ? bodies[0].Address : 0;
        if (detour.RedirectedSlot != 0 && firstBody != 0)
        {
            // Back to code that exists for good (a stub the slot held before may be gone by now).
            Interlocked.CompareExchange(ref *(nint*)detour.RedirectedSlot, firstBody, detour.EntryStub);
        }

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
        var size = X64.MaxTrampolineLength(X64.CoveredLength(original, patchLength));
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
    /// Writes <c>jmp [stub]</c> (14 bytes), or <c>jmp rel32</c> (5 bytes) to a thunk within reach that jumps to the
    /// stub, over the body's start: in one 16-byte store when the body is 16-byte aligned (JIT and ReadyToRun code
    /// is), so that a thread running it never sees half a jump.
    /// </summary>
    private static void WriteJump(nint body, byte[] original, nint stub, int length)
    {
        Span<byte> code = stackalloc byte[X64.AtomicStoreLength];
        original.AsSpan(0, X64.AtomicStoreLength).CopyTo(code);
        if (length == X64.RelativeJumpLength)
        {
            var thunk = CodeMemory.Allocate(body, X64.AbsoluteJumpLength);
            Span<byte> jump = stackalloc byte[X64.AbsoluteJumpLength];
            X64.EncodeAbsoluteJump(jump, stub);
            CodeMemory.WriteOwn(thunk, jump);
            X64.EncodeRelativeJump(code, body, thunk);
        }
        else
        {
            X64.EncodeAbsoluteJump(code, stub);
        }

        if (IsAtomicallyWritable(body))
        {
            using (CodeMemory.Unprotect(body, X64.AtomicStoreLength))
            {
                X64.Store16(body, code);
            }
        }
        else
        {
            CodeMemory.Write(body, code[..length]);
        }
    }

    private static bool IsAtomicallyWritable(nint address) => (address & 15) == 0;

    private RetargetWorker StartWorker()
    {
        var worker = new RetargetWorker(RetargetOriginal, SweepAll);
        Worker = worker;
        JitHook.BodyPatched = worker.Enqueue;
        return worker;
    }

    /// <summary>
    /// A body the JIT hook patched: once the method's entry leads to it (the runtime has copied it into place and
    /// published it), the original is called there, at its newest tier. Returns false while that is still to come.
    /// </summary>
    private bool RetargetOriginal(Detour detour, int slot, TimeSpan waited)
    {
        var (body, original, patchLength, size) = detour.JitBody(slot);
        if (detour.Removed || body == 0 || slot <= detour.OriginalSlot)
        {
            return true;
        }

        if (InnerBranches.LowestTarget(body, size, original, patchLength) >= 0)
        {
            // Its loop comes back inside the jump: a trampoline into it would land there. The original goes on
            // running in the body it runs in now, which stays in place.
            Interlocked.Increment(ref s_bodiesKeptAsOriginal);
            return true;
        }

        if (X64.FollowToBody(detour.Target.MethodHandle.GetFunctionPointer(), address => address == body) != body)
        {
            // Not yet published; one never published (discarded, or overtaken by a newer tier) is let go in the end.
            return waited > BarrierTimeout;
        }

        lock (_gate)
        {
            if (!detour.Removed && slot > detour.OriginalSlot)
            {
                _originalBytes[body] = original;
                detour.SetOriginal(BuildTrampoline(detour, body, original, patchLength), body, slot);
            }
        }

        return true;
    }

    private void SweepAll()
    {
        lock (_gate)
        {
            foreach (var detour in _detours)
            {
                Sweep(detour);
            }
        }
    }

    /// <summary>
    /// A safety net, not a part of the design: patches the method's current body if it reached the method without
    /// the JIT hook or the install seeing it, and counts it (<see cref="SweepRepairs"/>; the stress tests expect 0).
    /// </summary>
    private void Sweep(Detour detour)
    {
        var body = X64.FollowToBody(detour.Target.MethodHandle.GetFunctionPointer(), IsOurs);
        if (body == 0 || IsOurs(body))
        {
            return;
        }

        Interlocked.Increment(ref s_sweepRepairs);
        PatchBody(detour, body);
        Interlocked.MemoryBarrierProcessWide();
    }

    /// <summary>Bodies the sweep found unpatched: each one is a window the design failed to close.</summary>
    public static int SweepRepairs => Volatile.Read(ref s_sweepRepairs);

    /// <summary>New bodies whose loops branch back inside their jump, so that the original went on running in an older body.</summary>
    public static int BodiesKeptAsOriginal => Volatile.Read(ref s_bodiesKeptAsOriginal);

    /// <summary>Installs that wrote a jump before every thread was seen clear of the body's start (after 2 s).</summary>
    public static int UnsettledWrites => Volatile.Read(ref s_unsettledWrites);

    /// <summary>How many bodies each patch covers now (more than one once the runtime re-compiled the target).</summary>
    public IReadOnlyDictionary<string, int> BodyCounts
    {
        get
        {
            lock (_gate)
            {
                return _detours.ToDictionary(d => d.Name, d => d.Bodies.Count);
            }
        }
    }

    /// <summary>Where the bodies of one patch are.</summary>
    public IReadOnlyList<nint> BodiesOf(PatchHandle patch)
    {
        lock (_gate)
        {
            return [.. _detours.Single(d => d.Handle == patch).Bodies.Select(b => b.Address)];
        }
    }

    /// <summary>Each patch's entry chain and bodies, for diagnosing a patch that does not hold.</summary>
    public string DescribeChains()
    {
        lock (_gate)
        {
            var text = new System.Text.StringBuilder();
            foreach (var detour in _detours)
            {
                var entry = detour.Target.MethodHandle.GetFunctionPointer();
                var slot = X64.PrecodeTargetSlot(entry);
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{detour.Name}: entry=0x{entry:x} slot->0x{(slot == 0 ? 0 : *(nint*)slot):x} stub=0x{detour.EntryStub:x} body=0x{X64.FollowToBody(entry, IsOurs):x} bodies=[{string.Join(",", detour.Bodies.Select(b => $"0x{b.Address:x}:{*(byte*)b.Address:x2}"))}]\n");
            }

            return text.ToString();
        }
    }

    private sealed record PendingInstall(Detour Detour, nint Body, bool HadCode);
}
