using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Sits between the runtime and the JIT (ICorJitCompiler::compileMethod) so that every body compiled for a patched
/// method (tier 0, instrumented, tier 1, after a re-JIT) carries the patch before the runtime publishes it.
/// With W^X the JIT writes into a scratch buffer the runtime copies into place later; the hook learns that buffer's
/// address by standing in for ICorJitInfo::allocMem during the compilation (swapping the compilation's vtable
/// pointer for a copy, for that compilation only). Both stand-ins are native thunks (<see cref="JitThunks"/>) that
/// call managed code only before and after the runtime's and the JIT's own functions, never around them.
/// </summary>
internal static unsafe partial class JitHook
{
    // The JIT-EE interface of .NET 10; its vtable layouts below are only valid for exactly this version.
    private static readonly Guid SupportedJitInterface = new("7a8cbc56-9e19-4321-80b9-a0d2c578c945");
    private const int AllocMemSlot = 0xA0;
    private const int GetOsrInfoSlot = 0x1E;
    private const int SetMethodAttribsSlot = 0x03;
    private const int BadInlinee = 0x01;
    private const int MaxPendingNoInline = 256;
    private const int JitInfoVtableLength = 0xB0;
    private const int AllocMemHotCodeBlock = 24;
    private const int AllocMemHotCodeBlockRW = 32;
    private const int MaxConcurrentCompilations = 64;
    private const string OwnerKey = "ClusterContext.JitHookOwner";

    private static readonly Lock Gate = new();
    private static nint* s_compilerVtable;
    private static bool s_installed;
    private static readonly nint[] s_pendingNoInline = new nint[MaxPendingNoInline];
    private static int s_pendingNoInlineCount;
    private static delegate* unmanaged[SuppressGCTransition]<int> s_getTid;
    private static delegate* unmanaged<int> s_yield;
    private static delegate* unmanaged[SuppressGCTransition]<int, int, int, int> s_tgkill;
    private static int s_processId;
    private static int s_watchedThread;
    private static int s_watchedThreadCompiled;
    private static int s_markerCompiled;
    private static nint s_holdMethod;
    private static int s_holding;
    private static nint s_heldExecutable;
    private static nint s_heldWritable;
    private static uint s_heldSize;

    /// <summary>
    /// Bodies compiled for patched methods whose writable copy the hook did not know (more than 64 compilations at
    /// once, or an ICorJitInfo of another kind): they carry no patch until the sweep finds them. Never seen so far.
    /// </summary>
    public static int MissedCompilations;

    /// <summary>Called for each body that got a patch; the engine finishes the work off the JIT's thread.</summary>
    public static Action<Detour, int>? BodyPatched;

    /// <summary>What the runtime's JIT reports as its interface version.</summary>
    public static Guid JitInterfaceVersion { get; private set; }

    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (s_installed)
            {
                return;
            }

            // The hook (in its own load context) and the library (in the app's) are two copies of this engine; only
            // one may stand between the runtime and the JIT. AppDomain data is shared by every load context.
            var owner = typeof(JitHook).Assembly.Location + " in " + (System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(JitHook).Assembly)?.Name ?? "?");
            if (AppDomain.CurrentDomain.GetData(OwnerKey) is string other && other != owner)
            {
                throw new PatchException($"Another copy of ClusterContext ({other}) already patches this process. Use one: the startup hook (DOTNET_STARTUP_HOOKS) or the library, not both.");
            }

            AppDomain.CurrentDomain.SetData(OwnerKey, owner);
            var jit = GetJit();
            var vtable = *(nint**)jit;
            Guid version;
            ((delegate* unmanaged<void*, Guid*, void>)vtable[2])(jit, &version);
            JitInterfaceVersion = version;
            EnsureSupported(version);

            // No managed frame may stand between the runtime and the JIT (JitThunks): the JIT's compileMethod is
            // called from a native thunk, which calls the managed parts before and after it.
            if (!UnwindInfo.IsAvailable)
            {
                throw new PatchException("The C++ unwinder of this process (libgcc_s.so.1) was not found: exceptions the runtime raises during a compilation could not pass the JIT hook. Nothing was patched.");
            }

            var libc = NativeLibrary.Load("libc.so.6");
            s_getTid = (delegate* unmanaged[SuppressGCTransition]<int>)NativeLibrary.GetExport(libc, "gettid");
            s_yield = (delegate* unmanaged<int>)NativeLibrary.GetExport(libc, "sched_yield");
            s_tgkill = NativeLibrary.TryGetExport(libc, "tgkill", out var tgkill) ? (delegate* unmanaged[SuppressGCTransition]<int, int, int, int>)tgkill : null;
            s_processId = Environment.ProcessId;
            s_preallocatedShadow = (nint*)NativeMemory.Alloc(JitInfoVtableLength + ShadowHeader, (nuint)sizeof(nint)) + ShadowHeader;
            s_allocMemCell = (nint*)NativeMemory.Alloc((nuint)sizeof(nint));
            *s_allocMemCell = 0;
            s_allocMemThunk = JitThunks.EmitAllocMem((nint)s_allocMemCell, (nint)(delegate* unmanaged<void*, void*, void>)&RecordAllocation);
            var compile = (delegate* unmanaged<void*, void*, void*, uint, byte**, uint*, int>)JitThunks.EmitCompileMethod(
                (nint)(delegate* unmanaged<CompileFrame*, int>)&BeforeCompilation,
                vtable[0],
                (nint)(delegate* unmanaged<CompileFrame*, int>)&AfterCompilation);

            // Compile the hooks before they are in place: compiling them from inside themselves would recurse. A
            // compilation without an ICorJitInfo runs the whole thunk and both managed parts, and not the JIT.
            compile(null, null, null, 0, null, null);
            ((delegate* unmanaged<void*, void*, void>)&RecordAllocation)(null, null);
            PatchNewBodyWarmUp();

            s_compilerVtable = vtable;
            // The vtable is read-only data of the JIT, not code: it becomes read-write, never executable.
            CodeMemory.MakeWritableData((nint)vtable, sizeof(nint));
            Interlocked.Exchange(ref vtable[0], (nint)compile);

            s_installed = true;
        }
    }

    /// <summary>The vtable layouts this engine uses differ between runtime versions: anything but the known one is refused.</summary>
    internal static void EnsureSupported(Guid jitInterface)
    {
        if (jitInterface != SupportedJitInterface)
        {
            throw new PatchException($"Unsupported runtime {RuntimeInformation.FrameworkDescription}: its JIT interface is {jitInterface}, and this engine knows only .NET 10 ({SupportedJitInterface}). Nothing was patched.");
        }
    }

    private static void* GetJit()
    {
        // The runtime loads its JIT from its own directory; asking the loader for it again just returns its handle.
        var path = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), OperatingSystem.IsLinux() ? "libclrjit.so" : "clrjit");
        if (!NativeLibrary.TryLoad(path, out var library) || !NativeLibrary.TryGetExport(library, "getJit", out var getJit))
        {
            throw new PatchException($"The JIT ({path}) is not available in this process; patching needs the CoreCLR JIT (not Native AOT or the interpreter).");
        }

        return ((delegate* unmanaged<void*>)getJit)();
    }

    private static void PatchNewBodyWarmUp()
    {
        // Everything the hook runs is compiled and initialised now: compiling it from inside the hook would call
        // the hook again before it could finish.
        _ = DetourTable.Find(0);
        CompileLog.WarmUp();
        const System.Reflection.BindingFlags all = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Instance;
        foreach (var (type, name) in new[]
        {
            (typeof(DetourTable), nameof(DetourTable.Find)),
            (typeof(Detour), nameof(Detour.PatchNewBody)),
            (typeof(X64), nameof(X64.EncodeAbsoluteJump)),
            (typeof(JitHook), nameof(OnBodyPatched)),
            (typeof(JitHook), nameof(IsOnStackReplacement)),
            (typeof(JitHook), nameof(ClaimFlight)),
            (typeof(JitHook), nameof(ReleaseEnded)),
            (typeof(JitHook), nameof(ReleaseFlight)),
            (typeof(JitHook), nameof(ReclaimEndedThreads)),
            (typeof(JitHook), nameof(ShadowVtableFor)),
            (typeof(JitHook), nameof(MarkPendingNotInlinable)),
            (typeof(JitHook), nameof(Hold)),
        })
        {
            RuntimeHelpers.PrepareMethod(type.GetMethod(name, all)!.MethodHandle);
        }
    }

    /// <summary>
    /// For tests: the next compilation of <paramref name="methodHandle"/> that gets a patch stops on its way back to
    /// the runtime, before the runtime copies the body into place, until <see cref="ReleaseHeld"/>.
    /// </summary>
    public static void HoldNextPatchedCompilation(nint methodHandle) => Volatile.Write(ref s_holdMethod, methodHandle);

    /// <summary>The held compilation's body: where it will run, the JIT's writable copy and its size; null while none is held.</summary>
    public static (nint Executable, nint Writable, uint Size)? Held => Volatile.Read(ref s_holding) == 1 ? (s_heldExecutable, s_heldWritable, s_heldSize) : null;

    public static void ReleaseHeld()
    {
        Volatile.Write(ref s_holdMethod, 0);
        Volatile.Write(ref s_holding, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Hold(nint executable, nint writable, uint size)
    {
        s_heldExecutable = executable;
        s_heldWritable = writable;
        s_heldSize = size;
        Volatile.Write(ref s_holdMethod, 0);
        Volatile.Write(ref s_holding, 1);
        while (Volatile.Read(ref s_holding) == 1)
        {
            s_yield();
        }
    }

    /// <summary>Makes the hook note when <paramref name="thread"/> (an OS thread id; 0 for none) next compiles.</summary>
    public static void WatchThread(int thread)
    {
        Volatile.Write(ref s_watchedThreadCompiled, 0);
        Volatile.Write(ref s_watchedThread, thread);
    }

    /// <summary>Whether the watched thread has entered the JIT through the hook since <see cref="WatchThread"/>.</summary>
    public static bool WatchedThreadCompiled => Volatile.Read(ref s_watchedThreadCompiled) == 1;

    /// <summary>
    /// Asks that no method compiled from now on inline <paramref name="methodHandle"/>, the way the runtime marks
    /// methods that fail to inline (ICorJitInfo::setMethodAttribs with CORINFO_FLG_BAD_INLINEE). A copy of the
    /// target inlined into a caller is out of reach of any patch.
    /// </summary>
    public static void PreventInlining(nint methodHandle)
    {
        // The mark is made at the start of the next compilation, whichever it is: before any caller compiled from
        // then on could inline the method.
        lock (Gate)
        {
            var index = Interlocked.Increment(ref s_pendingNoInlineCount) - 1;
            if (index >= MaxPendingNoInline)
            {
                Interlocked.Decrement(ref s_pendingNoInlineCount);
                throw new PatchException($"More than {MaxPendingNoInline} methods are waiting to be marked not inlinable.");
            }

            Volatile.Write(ref s_pendingNoInline[index], methodHandle);
        }
    }

    /// <summary>
    /// Makes the marks asked for so far take effect now: compiles a method of its own, which passes the hook, and
    /// waits until the queue is empty (a compilation on another thread may have taken them first).
    /// </summary>
    public static void ApplyPendingMarks()
    {
        // Any compilation takes the marks: the first time, a method of this class that nothing else calls (cheap);
        // afterwards one made for the purpose.
        if (Interlocked.Exchange(ref s_markerCompiled, 1) == 0)
        {
            RuntimeHelpers.PrepareMethod(typeof(JitHook).GetMethod(nameof(Marker), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MethodHandle);
        }
        else
        {
            var marker = new System.Reflection.Emit.DynamicMethod("ClusterContext.ApplyMarks", typeof(int), [typeof(int)], typeof(JitHook).Module, skipVisibility: true);
            var il = marker.GetILGenerator();
            il.Emit(System.Reflection.Emit.OpCodes.Ldarg_0);
            il.Emit(System.Reflection.Emit.OpCodes.Ret);
            ((Func<int, int>)marker.CreateDelegate(typeof(Func<int, int>)))(0);
        }

        var spin = new SpinWait();
        while (Volatile.Read(ref s_pendingNoInlineCount) > 0)
        {
            spin.SpinOnce();
        }
    }

    // AggressiveOptimization keeps it out of the ReadyToRun image: preparing it must compile it, here and now (were it
    // precompiled, the marks would wait for whatever compilation came next, on any thread, which may be a long while).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Marker(int value) => value + 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MarkPendingNotInlinable(void* comp)
    {
        var setMethodAttribs = (delegate* unmanaged<void*, nint, int, void>)(*(nint**)comp)[SetMethodAttribsSlot];
        while (true)
        {
            var count = Volatile.Read(ref s_pendingNoInlineCount);
            if (count == 0)
            {
                return;
            }

            var handle = Interlocked.Exchange(ref s_pendingNoInline[count - 1], 0);
            if (Interlocked.CompareExchange(ref s_pendingNoInlineCount, count - 1, count) != count)
            {
                // Raced with another compilation or a new request; put it back and look again.
                if (handle != 0)
                {
                    Volatile.Write(ref s_pendingNoInline[count - 1], handle);
                }

                continue;
            }

            if (handle != 0)
            {
                setMethodAttribs(comp, handle, BadInlinee);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OnBodyPatched(Detour detour, int body) => BodyPatched?.Invoke(detour, body);
}
