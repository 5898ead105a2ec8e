using ClusterContext.Testing;
using Xunit;

namespace ClusterContext.Testing.Probe;

/// <summary>Tests as a user writes them: options from CLUSTERCONTEXT_* (the parent test sets them).</summary>
public sealed class ProbeTests(ClusterContextFixture fixture) : IClassFixture<ClusterContextFixture>
{
    [Fact]
    public void ReadsThePodsEnvironment() => Assert.Equal("sandbox", fixture.Environment["ORDERS_MODE"]);

    [Fact]
    public void SkipsWhenLocal()
    {
        fixture.SkipIfLocal();
        Assert.True(fixture.IsConnected);
    }
}
