using System.Reflection;
using ClusterContext.Patching;

namespace ClusterContext.Tests.Patching;

[Collection(PatchingGroup.Name)]
public sealed class ShapeTests : IDisposable
{
    private const string Owner = "shape-tests";
    private readonly IMethodPatcher _patcher = MethodPatcher.Shared;

    public ShapeTests() => Replacements.Calls = 0;

    public void Dispose() => _patcher.RemoveAll(Owner);

    [Fact]
    public void Static_method()
    {
        var before = StaticTarget.Compute(5);
        var patch = Patch(typeof(StaticTarget), nameof(StaticTarget.Compute), nameof(Replacements.Compute));

        Assert.Equal(before + 1000, StaticTarget.Compute(5));
        Assert.Equal(1, Replacements.Calls);

        _patcher.Remove(patch);
        Assert.Equal(before, StaticTarget.Compute(5));
        Assert.Equal(1, Replacements.Calls);
        Assert.False(patch.IsActive);
    }

    [Fact]
    public void Instance_method_gets_this_first()
    {
        var target = new InstanceTarget(1);
        Patch(typeof(InstanceTarget), nameof(InstanceTarget.Add), nameof(Replacements.Add));

        Assert.Equal(301, target.Add(3));
        Assert.Equal(1, Replacements.Calls);
        _patcher.RemoveAll(Owner);
        Assert.Equal(304, target.Add(3));
    }

    [Fact]
    public void Value_type_instance_method_gets_this_by_reference()
    {
        var point = new ValueTarget { X = 1 };
        Patch(typeof(ValueTarget), nameof(ValueTarget.Move), nameof(Replacements.Move));

        Assert.Equal(31, point.Move(2));
        Assert.Equal(3, point.X);
        _patcher.RemoveAll(Owner);
        Assert.Equal(40, point.Move(1));
    }

    [Fact]
    public void Ref_and_out_parameters()
    {
        Patch(typeof(ByRefTarget), nameof(ByRefTarget.Exchange), nameof(Replacements.Exchange));

        var value = 3;
        Assert.True(ByRefTarget.Exchange(ref value, out var text, 4));
        Assert.Equal(12, value);
        Assert.Equal("patched value=12", text);

        _patcher.RemoveAll(Owner);
        Assert.True(ByRefTarget.Exchange(ref value, out text, 2));
        Assert.Equal("value=24", text);
    }

    [Fact]
    public void Span_parameters()
    {
        Patch(typeof(SpanTarget), nameof(SpanTarget.Copy), nameof(Replacements.Copy));

        Span<int> destination = stackalloc int[3];
        Assert.Equal(3, SpanTarget.Copy([7, 8, 9, 10], destination));
        Assert.Equal([-1, 8, 9], destination.ToArray());

        _patcher.RemoveAll(Owner);
        Assert.Equal(3, SpanTarget.Copy([7, 8, 9, 10], destination));
        Assert.Equal([7, 8, 9], destination.ToArray());
    }

    [Fact]
    public void Method_of_a_generic_type_over_a_reference_type()
    {
        var box = new GenericTarget<string>("a");
        Patch(typeof(GenericTarget<string>), nameof(GenericTarget<string>.Swap), nameof(Replacements.SwapString));

        Assert.Equal("patched:a", box.Swap("b"));
        Assert.Equal("patched:b", box.Swap("c"));
        _patcher.RemoveAll(Owner);
        Assert.Equal("c", box.Swap("d"));
    }

    [Fact]
    public void Method_of_a_generic_type_over_a_value_type()
    {
        var box = new GenericTarget<int>(1);
        Patch(typeof(GenericTarget<int>), nameof(GenericTarget<int>.Swap), nameof(Replacements.SwapInt));

        Assert.Equal(501, box.Swap(2));
        _patcher.RemoveAll(Owner);
        Assert.Equal(2, box.Swap(3));
    }

    [Fact]
    public void A_patch_holds_through_tier_up_of_a_hot_method()
    {
        Patch(typeof(StaticTarget), nameof(StaticTarget.Compute), nameof(Replacements.Compute));
        var expected = 0L;
        var actual = 0L;
        for (var i = 0; i < 300_000; i++)
        {
            actual += StaticTarget.Compute(i);
            expected += (i & 7) * ((i & 7) - 1) / 2 + (i * 2) + 1000;
        }

        Assert.Equal(expected, actual);
        Assert.Equal(300_000, Replacements.Calls);
    }

    private PatchHandle Patch(Type type, string target, string replacement)
    {
        var method = type.GetMethod(target, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)!;
        var patch = _patcher.Patch(method, typeof(Replacements).GetMethod(replacement)!, Owner);
        Replacements.Original = patch.Original;
        return patch;
    }
}
