using System.Net;
using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

public class ResolverConfigTests
{
    [Fact]
    public void Parses_a_kubernetes_resolv_conf()
    {
        var config = ResolverConfig.Parse("""
            search shop.svc.cluster.local svc.cluster.local cluster.local
            nameserver 10.96.0.10
            options ndots:5
            """);

        Assert.Equal([IPAddress.Parse("10.96.0.10")], config.NameServers);
        Assert.Equal(["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"], config.SearchDomains);
        Assert.Equal(5, config.Ndots);
        Assert.Equal(5, config.TimeoutSeconds);
        Assert.Equal(2, config.Attempts);
    }

    [Fact]
    public void An_empty_file_gives_glibc_defaults()
    {
        var config = ResolverConfig.Parse("");

        Assert.Equal([IPAddress.Loopback], config.NameServers);
        Assert.Empty(config.SearchDomains);
        Assert.Equal(1, config.Ndots);
        Assert.Equal(5, config.TimeoutSeconds);
        Assert.Equal(2, config.Attempts);
    }

    [Fact]
    public void Uses_the_first_three_valid_name_servers()
    {
        var config = ResolverConfig.Parse("""
            nameserver not-an-address
            nameserver 10.0.0.1
            nameserver
            nameserver fd00::53 extra-field
            nameserver fe80::1%1
            nameserver 10.0.0.4
            """);

        Assert.Equal(["10.0.0.1", "fd00::53", "fe80::1%1"], config.NameServers.Select(a => a.ToString()));
    }

    [Theory]
    [InlineData("search a.example b.example\ndomain c.example", new[] { "c.example" })]
    [InlineData("domain c.example\nsearch a.example b.example", new[] { "a.example", "b.example" })]
    [InlineData("search a.example\nsearch b.example", new[] { "b.example" })]
    [InlineData("search a.example\nsearch", new string[0])]
    [InlineData("search a.example. . b.example", new[] { "a.example", ".", "b.example" })]
    public void The_last_search_or_domain_line_wins(string text, string[] expected)
    {
        Assert.Equal(expected, ResolverConfig.Parse(text).SearchDomains);
    }

    [Theory]
    [InlineData("options ndots:20 timeout:99 attempts:9", 15, 30, 5)]
    [InlineData("options ndots:0 timeout:0 attempts:0", 0, 0, 0)]
    [InlineData("options ndots:abc", 0, 5, 2)]
    [InlineData("options ndots:3x timeout:2", 3, 2, 2)]
    [InlineData("options rotate edns0 ndots:2\noptions attempts:3 ndots:4", 4, 5, 3)]
    [InlineData("options ndots 7 timeout: unknown:1", 1, 0, 2)]
    public void Options_are_read_like_glibc(string text, int ndots, int timeout, int attempts)
    {
        var config = ResolverConfig.Parse(text);

        Assert.Equal((ndots, timeout, attempts), (config.Ndots, config.TimeoutSeconds, config.Attempts));
    }

    [Fact]
    public void Comments_blank_lines_and_crlf_are_ignored()
    {
        var config = ResolverConfig.Parse(
            "# generated\r\n; nameserver 10.0.0.9\r\n\r\nnameserver 10.0.0.1 # primary\r\nsearch a.example ; b.example\r\n  \t\r\nNAMESERVER 10.0.0.2\r\n");

        Assert.Equal([IPAddress.Parse("10.0.0.1")], config.NameServers);
        Assert.Equal(["a.example"], config.SearchDomains);
    }
}
