using System.Reflection;
using System.Runtime.Loader;
using ClusterContext.Patching;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Tests.Patching;

[Collection(PatchingGroup.Name)]
public class SecondEngineTests
{
    [Fact]
    public void A_second_copy_of_the_engine_in_another_load_context_is_refused_with_a_clear_message()
    {
        JitHook.EnsureInstalled();
        var context = new AssemblyLoadContext("second-clustercontext", isCollectible: false);
        var second = context.LoadFromAssemblyPath(typeof(MethodPatcher).Assembly.Location);
        Assert.NotSame(typeof(MethodPatcher).Assembly, second);

        var ensure = second.GetType("ClusterContext.Patching.Internal.JitHook")!.GetMethod("EnsureInstalled", BindingFlags.Public | BindingFlags.Static)!;
        var error = Assert.Throws<TargetInvocationException>(() => ensure.Invoke(null, null));

        Assert.Equal("ClusterContext.PatchException", error.InnerException!.GetType().FullName);
        Assert.Contains("Another copy of ClusterContext", error.InnerException.Message, StringComparison.Ordinal);
        Assert.Contains("not both", error.InnerException.Message, StringComparison.Ordinal);
    }
}
