namespace ClusterContext.Testing.Sandbox.Tests;

public sealed class PrerequisitesTests
{
    [Fact]
    public void Missing_tools_and_root_fail_with_what_to_install()
    {
        var error = Assert.Throws<PodSandboxException>(() => Prerequisites.Require([], isRoot: false));

        Assert.Contains("root", error.Message, StringComparison.Ordinal);
        Assert.Contains("dnsmasq (Debian package dnsmasq-base)", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install -y iproute2 dnsmasq-base redis-server util-linux", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void This_machine_has_everything_the_sandbox_needs()
    {
        var tools = Prerequisites.Require();

        Assert.All(new[] { tools.Ip, tools.Nsenter, tools.Unshare, tools.Dnsmasq, tools.RedisServer }, path => Assert.True(Path.IsPathRooted(path)));
    }
}
