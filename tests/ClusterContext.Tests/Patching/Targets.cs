using System.Runtime.CompilerServices;

namespace ClusterContext.Tests.Patching;

// Methods of each supported shape, big enough (and marked) never to be inlined.
internal static class StaticTarget
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Compute(int x)
    {
        var total = 0;
        for (var i = 0; i < (x & 7); i++)
        {
            total += i;
        }

        return total + (x * 2);
    }
}

internal sealed class InstanceTarget(int start)
{
    private int _value = start;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Add(int amount)
    {
        _value += amount;
        return _value;
    }
}

internal struct ValueTarget
{
    public int X;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public int Move(int dx)
    {
        X += dx;
        return X * 10;
    }
}

internal static class ByRefTarget
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static bool Exchange(ref int value, out string text, int factor)
    {
        value *= factor;
        text = $"value={value}";
        return value > 0;
    }
}

internal static class SpanTarget
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Copy(ReadOnlySpan<int> source, Span<int> destination)
    {
        var count = Math.Min(source.Length, destination.Length);
        source[..count].CopyTo(destination);
        return count;
    }
}

internal sealed class GenericTarget<T>(T value)
{
    private T _value = value;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public T Swap(T next)
    {
        var previous = _value;
        _value = next;
        return previous;
    }
}

internal class VirtualTarget
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public virtual int Read() => 1;
}

internal static class TinyTarget
{
    public static int Get() => 1;
}

internal sealed class DerivedTarget : VirtualTarget
{
    public override int Read() => 3;
}
