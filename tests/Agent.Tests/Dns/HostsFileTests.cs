using System.Net;
using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

public class HostsFileTests
{
    private const string KubernetesHosts = """
        # Kubernetes-managed hosts file.
        127.0.0.1	localhost
        ::1	localhost ip6-localhost ip6-loopback
        fe00::0	ip6-localnet
        10.244.1.5	web-0.web.shop.svc.cluster.local	web-0
        # Entries added by HostAliases.
        10.1.2.3	legacy.example	legacy
        10.1.2.4	legacy.example
        10.1.2.3	LEGACY
        """;

    [Fact]
    public void Returns_every_address_of_a_name_in_file_order()
    {
        var hosts = HostsFile.Parse(KubernetesHosts);

        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], hosts.Lookup("localhost"));
        Assert.Equal([IPAddress.Parse("10.1.2.3"), IPAddress.Parse("10.1.2.4")], hosts.Lookup("legacy.example"));
    }

    [Theory]
    [InlineData("WEB-0")]
    [InlineData("Web-0.Web.Shop.Svc.Cluster.Local")]
    public void Lookup_ignores_case(string name)
    {
        Assert.Equal([IPAddress.Parse("10.244.1.5")], HostsFile.Parse(KubernetesHosts).Lookup(name));
    }

    [Fact]
    public void A_trailing_dot_is_part_of_the_name_as_in_glibc()
    {
        Assert.Empty(HostsFile.Parse(KubernetesHosts).Lookup("web-0."));
        Assert.Equal([IPAddress.Parse("10.0.0.1")], HostsFile.Parse("10.0.0.1 dotted.\n").Lookup("dotted."));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("multi on\n", true)]
    [InlineData("MULTI On # all lines\n", true)]
    [InlineData("multi on\nmulti off\n", false)]
    [InlineData("# multi on\norder hosts,bind\n", false)]
    public void Host_conf_says_whether_every_line_counts(string hostConf, bool multi)
    {
        Assert.Equal(multi, HostsFile.Parse(KubernetesHosts, hostConf).Multi);
    }

    [Fact]
    public void Entries_keep_the_canonical_name_and_aliases()
    {
        var hosts = HostsFile.Parse(KubernetesHosts);

        var entry = Assert.Single(hosts.Find("web-0"));
        Assert.Equal("web-0.web.shop.svc.cluster.local", entry.CanonicalName);
        Assert.Equal(["web-0"], entry.Aliases);
        Assert.Equal(["legacy.example", "LEGACY"], hosts.Find("legacy").Select(e => e.CanonicalName));
        Assert.Equal([IPAddress.Parse("10.1.2.3")], hosts.Lookup("legacy"));
    }

    [Fact]
    public void Lines_without_an_address_or_a_name_are_skipped()
    {
        var hosts = HostsFile.Parse("""
            not-an-address  broken
            10.0.0.1
            10.0.0.2 good # comment with 10.0.0.3 other
            #10.0.0.4 commented
            10.0.0.5 a a
            """);

        Assert.Equal(["good", "a"], hosts.Entries.Select(e => e.CanonicalName));
        Assert.Empty(hosts.Lookup("broken"));
        Assert.Empty(hosts.Lookup("other"));
        Assert.Single(hosts.Find("a"));
    }

    [Fact]
    public void Unknown_names_and_the_empty_file_have_no_addresses()
    {
        Assert.Empty(HostsFile.Parse(KubernetesHosts).Lookup("redis"));
        Assert.Empty(HostsFile.Empty.Lookup("localhost"));
        Assert.Empty(HostsFile.Parse("").Entries);
    }
}
