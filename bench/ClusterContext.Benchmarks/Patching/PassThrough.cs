using System.Runtime.CompilerServices;

namespace ClusterContext.Benchmarks.Patching;

/// <summary>Replacements that only call the original: what a hook costs when it has nothing to do.</summary>
internal static unsafe class PassThrough
{
    public static nint FileExistsOriginal;
    public static nint ComputeOriginal;

    public static bool FileExists(ReadOnlySpan<char> fullPath, ref byte errorInfo) =>
        ((delegate*<ReadOnlySpan<char>, ref byte, bool>)FileExistsOriginal)(fullPath, ref errorInfo);

    public static int Compute(int x) => ((delegate*<int, int>)ComputeOriginal)(x);

    /// <summary>A target with no I/O at all, to show the hook's cost in isolation.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ComputeTarget(int x)
    {
        var total = x;
        for (var i = 0; i < 4; i++)
        {
            total = (total * 31) ^ i;
        }

        return total;
    }
}
