namespace ClusterContext.Tests.Patching;

/// <summary>Replacements that call the original through <see cref="ClusterContext.Patching.PatchHandle.Original"/> and change its result.</summary>
internal static unsafe class Replacements
{
    public static nint Original;
    public static int Calls;

    public static int Compute(int x)
    {
        Calls++;
        return ((delegate*<int, int>)Original)(x) + 1000;
    }

    public static int Add(InstanceTarget self, int amount)
    {
        Calls++;
        return ((delegate*<InstanceTarget, int, int>)Original)(self, amount * 100);
    }

    public static int Move(ref ValueTarget self, int dx)
    {
        Calls++;
        return ((delegate*<ref ValueTarget, int, int>)Original)(ref self, dx) + 1;
    }

    public static bool Exchange(ref int value, out string text, int factor)
    {
        Calls++;
        var result = ((delegate*<ref int, out string, int, bool>)Original)(ref value, out text, factor);
        text = "patched " + text;
        return result;
    }

    public static int Copy(ReadOnlySpan<int> source, Span<int> destination)
    {
        Calls++;
        var count = ((delegate*<ReadOnlySpan<int>, Span<int>, int>)Original)(source, destination);
        destination[0] = -1;
        return count;
    }

    public static string SwapString(GenericTarget<string> self, string next)
    {
        Calls++;
        return "patched:" + ((delegate*<GenericTarget<string>, string, string>)Original)(self, next);
    }

    public static int SwapInt(GenericTarget<int> self, int next)
    {
        Calls++;
        return ((delegate*<GenericTarget<int>, int, int>)Original)(self, next) + 500;
    }

    public static int Get() => 2;

    public static int GetVirtual(VirtualTarget self) => 2;

    public static long WrongReturn(int x) => x;
}
