using ClusterContext.Session.Host;

namespace ClusterContext.Tests.Session.Host;

/// <summary>What the native shim asks the host about: the literal start of each configured path pattern.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ShimServiceTests
{
    [Theory]
    [InlineData("^/tmp/clustercontext-written-", "/tmp/clustercontext-written-")]
    [InlineData("^/data/items/.*\\.json$", "/data/items/")]
    [InlineData("^/etc/app\\.d/x", "/etc/app.d/x")]
    [InlineData("^/var/logs?/", "/var/log")]
    [InlineData("^/srv/(a|b)/", "/")]
    [InlineData("^/one|^/two", "/")]
    [InlineData("\\.json$", "/")]
    [InlineData("^/opt/\\d+/", "/opt/")]
    [InlineData("^/", "/")]
    public void A_patterns_literal_start_covers_every_path_it_matches(string pattern, string start)
    {
        Assert.Equal(start, ShimService.LiteralStart(pattern));
    }
}
