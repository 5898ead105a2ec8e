using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// One compilation as the native compileMethod thunk keeps it on its stack: the six arguments it was called with,
/// what the hook decided before the JIT ran, and the JIT's result. Its address tells compilations of one thread
/// apart: a frame nested in another lies below it. Offsets are the thunk's (<see cref="JitThunks"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CompileFrame
{
    public const int ResultOffset = 0x30;

    public void* Jit;
    public void* Comp;
    public void* Info;
    public ulong Flags;
    public byte** NativeEntry;
    public uint* NativeSize;
    public int Result;
    public int Slot;
    public nint Vtable;
}
