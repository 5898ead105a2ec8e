using System.Reflection;
using ClusterContext.Patching;

namespace ClusterContext.Tests.Patching;

[Collection(PatchingGroup.Name)]
public sealed class OwnershipAndRefusalTests : IDisposable
{
    private readonly IMethodPatcher _patcher = MethodPatcher.Shared;

    public void Dispose()
    {
        _patcher.RemoveAll("owner-a");
        _patcher.RemoveAll("owner-b");
    }

    [Fact]
    public void Patches_are_listed_and_removed_per_owner()
    {
        var a = _patcher.Patch(Method(typeof(StaticTarget), nameof(StaticTarget.Compute)), Replacement(nameof(Replacements.Compute)), "owner-a");
        Replacements.Original = a.Original;
        var b = _patcher.Patch(Method(typeof(InstanceTarget), nameof(InstanceTarget.Add)), Replacement(nameof(Replacements.Add)), "owner-b");

        Assert.Contains(a, _patcher.Patches);
        Assert.Contains(b, _patcher.Patches);
        Assert.Equal(1, _patcher.RemoveAll("owner-a"));
        Assert.DoesNotContain(a, _patcher.Patches);
        Assert.Contains(b, _patcher.Patches);
        Assert.Equal(StaticTargetUnpatched(5), StaticTarget.Compute(5));
    }

    [Fact]
    public void Sets_of_several_owners_go_in_one_install_each_getting_its_own_handles_first()
    {
        var compute = Method(typeof(StaticTarget), nameof(StaticTarget.Compute));
        var add = Method(typeof(InstanceTarget), nameof(InstanceTarget.Add));
        IReadOnlyList<PatchHandle>? seenByA = null, seenByB = null;
        var handles = _patcher.Patch(
        [
            new PatchSet([(compute, Replacement(nameof(Replacements.Compute)))], "owner-a", h => { seenByA = h; Replacements.Original = h[0].Original; }),
            new PatchSet([(add, Replacement(nameof(Replacements.Add)))], "owner-b", h => seenByB = h),
        ]);

        Assert.Equal(2, handles.Count);
        Assert.Same(seenByA, handles[0]);
        Assert.Same(seenByB, handles[1]);
        Assert.Equal("owner-a", Assert.Single(handles[0]).Owner);
        Assert.Equal("owner-b", Assert.Single(handles[1]).Owner);
        Assert.Equal(StaticTargetUnpatched(5) + 1000, StaticTarget.Compute(5));

        // Each owner's patches stay its own: removing one set leaves the other.
        Assert.Equal(1, _patcher.RemoveAll("owner-a"));
        Assert.Equal(StaticTargetUnpatched(5), StaticTarget.Compute(5));
        Assert.Contains(handles[1][0], _patcher.Patches);
    }

    [Fact]
    public void A_method_named_in_two_sets_of_one_install_is_refused_and_nothing_is_patched()
    {
        var compute = Method(typeof(StaticTarget), nameof(StaticTarget.Compute));
        var error = Assert.Throws<PatchException>(() => _patcher.Patch(
        [
            new PatchSet([(Method(typeof(InstanceTarget), nameof(InstanceTarget.Add)), Replacement(nameof(Replacements.Add)))], "owner-a"),
            new PatchSet([(compute, Replacement(nameof(Replacements.Compute)))], "owner-a"),
            new PatchSet([(compute, Replacement(nameof(Replacements.Compute)))], "owner-b"),
        ]));
        Assert.Contains("named twice in one install", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_patcher.Patches, p => p.Owner is "owner-a" or "owner-b");
        Assert.Equal(StaticTargetUnpatched(4), StaticTarget.Compute(4));
    }

    [Fact]
    public void Patching_a_method_twice_names_the_owner_that_has_it()
    {
        var first = _patcher.Patch(Method(typeof(StaticTarget), nameof(StaticTarget.Compute)), Replacement(nameof(Replacements.Compute)), "owner-a");
        Replacements.Original = first.Original;
        var error = Assert.Throws<PatchException>(() => _patcher.Patch(Method(typeof(StaticTarget), nameof(StaticTarget.Compute)), Replacement(nameof(Replacements.Compute)), "owner-b"));
        Assert.Contains("already patched by 'owner-a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_virtual_method_is_refused_and_left_alone()
    {
        var error = Assert.Throws<PatchException>(() => _patcher.Patch(Method(typeof(VirtualTarget), nameof(VirtualTarget.Read)), Replacement(nameof(Replacements.GetVirtual)), "owner-a"));
        Assert.Contains("VirtualTarget.Read", error.Message, StringComparison.Ordinal);
        Assert.Contains("virtual", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, new VirtualTarget().Read());
    }

    [Fact]
    public void A_method_small_enough_to_be_inlined_is_refused()
    {
        var error = Assert.Throws<PatchException>(() => _patcher.Patch(Method(typeof(TinyTarget), nameof(TinyTarget.Get)), Replacement(nameof(Replacements.Get)), "owner-a"));
        Assert.Contains("inlines it into its callers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_replacement_of_another_shape_is_refused_with_both_shapes()
    {
        var error = Assert.Throws<PatchException>(() => _patcher.Patch(Method(typeof(StaticTarget), nameof(StaticTarget.Compute)), Replacement(nameof(Replacements.WrongReturn)), "owner-a"));
        Assert.Contains("must be Int32 (Int32) but is Int64 (Int32)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_patcher.Patches, p => p.Owner == "owner-a");
        Assert.Equal(StaticTargetUnpatched(3), StaticTarget.Compute(3));
    }

    [Fact]
    public void An_unknown_runtime_is_refused_with_its_version()
    {
        var error = Assert.Throws<PatchException>(() => ClusterContext.Patching.Internal.JitHook.EnsureSupported(Guid.Parse("00000000-1111-2222-3333-444444444444")));
        Assert.Contains("00000000-1111-2222-3333-444444444444", error.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was patched", error.Message, StringComparison.Ordinal);
    }

    private static int StaticTargetUnpatched(int x) => Enumerable.Range(0, x & 7).Sum() + (x * 2);

    private static MethodInfo Method(Type type, string name) => type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)!;

    private static MethodInfo Replacement(string name) => typeof(Replacements).GetMethod(name)!;
}
