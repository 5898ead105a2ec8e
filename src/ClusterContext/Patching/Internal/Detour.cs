using System.Reflection;
using System.Runtime.CompilerServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// The state of one patch: the stubs every patched body jumps to, the stub the replacement calls for the original,
/// and every body of the target that carries the patch. Bodies compiled later are added from the JIT hook, which
/// may not allocate: they go into preallocated slots.
/// </summary>
internal sealed unsafe class Detour
{
    /// <summary>Compiled bodies one method can get (tier 0, instrumented, tier 1, ... ); far more than the runtime makes.</summary>
    public const int MaxJitBodies = 64;

    private readonly Lock _gate = new();
    private readonly List<PatchedBody> _bodies = [];
    private readonly nint[] _jitBodyAddress = new nint[MaxJitBodies];
    private readonly byte[] _jitBodyBytes = new byte[MaxJitBodies * X64.SavedPrologueLength];
    private readonly int[] _jitBodyPatchLength = new int[MaxJitBodies];
    private readonly int[] _jitBodySize = new int[MaxJitBodies];
    private int _jitBodiesTaken;

    public Detour(MethodBase target, MethodInfo replacement, string owner, IReadOnlyList<nint> methodHandles)
    {
        Target = target;
        Replacement = replacement;
        MethodHandles = methodHandles;
        ReplacementEntry = replacement.MethodHandle.GetFunctionPointer();
        OriginalStub = CodeMemory.Allocate(0, X64.AbsoluteJumpLength);
        EntryStub = CodeMemory.Allocate(0, X64.AbsoluteJumpLength);
        Span<byte> jump = stackalloc byte[X64.AbsoluteJumpLength];
        X64.EncodeAbsoluteJump(jump, ReplacementEntry);
        CodeMemory.WriteOwn(EntryStub, jump);

        // Its target, the trampoline, is set once the body is known.
        X64.EncodeAbsoluteJump(jump, 0);
        CodeMemory.WriteOwn(OriginalStub, jump);
        Handle = new PatchHandle(target, replacement, owner, OriginalStub);
        Name = $"{target.DeclaringType?.FullName}.{target.Name}";
    }

    public MethodBase Target { get; }

    public MethodInfo Replacement { get; }

    public string Name { get; }

    public PatchHandle Handle { get; }

    /// <summary>The handles the JIT compiles this method under (more than one for shared generic code).</summary>
    public IReadOnlyList<nint> MethodHandles { get; }

    public nint ReplacementEntry { get; }

    /// <summary>Jumps to the newest trampoline; the replacement calls this.</summary>
    public nint OriginalStub { get; }

    /// <summary>Bodies the JIT produced that were too short to carry a patch; calls to them are not seen.</summary>
    public int UnpatchableBodies;

    public volatile bool Removed;

    /// <summary>The precode target slot pointed at <see cref="EntryStub"/> at patch time (0 when none was).</summary>
    public nint RedirectedSlot { get; set; }

    public IReadOnlyList<PatchedBody> Bodies
    {
        get
        {
            lock (_gate)
            {
                CollectJitBodies();
                return [.. _bodies];
            }
        }
    }

    public bool Contains(nint body)
    {
        lock (_gate)
        {
            CollectJitBodies();
            return _bodies.Exists(b => b.Address == body);
        }
    }

    public void AddBody(PatchedBody body)
    {
        lock (_gate)
        {
            _bodies.Add(body);
        }
    }

    /// <summary>
    /// Every patched body jumps here, and from here to the replacement. Removing the patch points it at the
    /// original instead, which takes effect in every body at once.
    /// </summary>
    public nint EntryStub { get; }

    public void RedirectEntryStub(nint target) => Interlocked.Exchange(ref *(nint*)X64.AbsoluteJumpTargetSlot(EntryStub), target);

    /// <summary>The body whose first instructions the current trampoline runs and continues in.</summary>
    public nint OriginalBody { get; private set; }

    /// <summary>The JIT body slot of <see cref="OriginalBody"/>; -1 for the body found at install.</summary>
    public int OriginalSlot { get; private set; } = -1;

    public void SetOriginal(nint trampoline, nint body, int slot)
    {
        OriginalBody = body;
        OriginalSlot = slot;
        Interlocked.Exchange(ref *(nint*)X64.AbsoluteJumpTargetSlot(OriginalStub), trampoline);
    }

    /// <summary>
    /// Called from the JIT hook with a new body still in the JIT's writable buffer: writes the jump before the
    /// runtime publishes the code, so no call ever reaches it unpatched. No allocation, no locks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int PatchNewBody(nint executable, nint writable, uint size)
    {
        if (size < X64.AbsoluteJumpLength)
        {
            Interlocked.Increment(ref UnpatchableBodies);
            return -1;
        }

        var slot = Interlocked.Increment(ref _jitBodiesTaken) - 1;
        if (slot >= MaxJitBodies)
        {
            Interlocked.Increment(ref UnpatchableBodies);
            return -1;
        }

        var saved = (int)Math.Min(size, X64.SavedPrologueLength);
        new ReadOnlySpan<byte>((void*)writable, saved).CopyTo(_jitBodyBytes.AsSpan(slot * X64.SavedPrologueLength));
        X64.EncodeAbsoluteJump(new Span<byte>((void*)writable, X64.AbsoluteJumpLength), EntryStub);
        const int length = X64.AbsoluteJumpLength;
        _jitBodyPatchLength[slot] = length;
        _jitBodySize[slot] = (int)size;
        Volatile.Write(ref _jitBodyAddress[slot], executable);
        return slot;
    }

    public (nint Address, byte[] Bytes, int PatchLength, int Size) JitBody(int slot) =>
        (Volatile.Read(ref _jitBodyAddress[slot]), _jitBodyBytes.AsSpan(slot * X64.SavedPrologueLength, X64.SavedPrologueLength).ToArray(), _jitBodyPatchLength[slot], _jitBodySize[slot]);

    private void CollectJitBodies()
    {
        var count = Math.Min(Volatile.Read(ref _jitBodiesTaken), MaxJitBodies);
        for (var slot = 0; slot < count; slot++)
        {
            var (address, bytes, length, _) = JitBody(slot);
            if (address != 0 && !_bodies.Exists(b => b.Address == address))
            {
                _bodies.Add(new PatchedBody(address, bytes, length));
            }
        }
    }
}
