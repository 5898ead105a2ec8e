using System.Net;
using System.Net.Sockets;
using ClusterContext.Hooks.Network;

namespace ClusterContext.Tests.Hooks.Network;

public class RemoteDestinationsTests
{
    private static readonly IPEndPoint ApiServer = IPEndPoint.Parse("192.168.49.2:6443");

    [Theory]
    [InlineData("10.96.0.1:443", true)] // KUBERNETES_SERVICE_HOST
    [InlineData("10.244.1.7:8080", true)] // a pod IP from configuration
    [InlineData("203.0.113.10:5432", true)] // a database only the cluster's network reaches
    [InlineData("169.254.169.254:80", true)] // the node's metadata service, as the pod sees it
    [InlineData("[::ffff:10.96.0.10]:53", true)] // a dual-mode socket's view of an IPv4 address
    [InlineData("[2001:db8::5]:80", true)]
    [InlineData("127.0.0.1:6379", false)]
    [InlineData("127.8.9.10:6379", false)]
    [InlineData("[::1]:80", false)]
    [InlineData("[::ffff:127.0.0.1]:80", false)]
    [InlineData("0.0.0.0:80", false)]
    [InlineData("192.168.49.2:6443", false)] // the API server the session uses
    [InlineData("192.168.49.2:22", true)] // another port of that machine is just an address
    [InlineData("224.0.0.251:5353", false)]
    [InlineData("255.255.255.255:67", false)]
    [InlineData("[fe80::1]:80", false)]
    [InlineData("[ff02::fb]:5353", false)]
    public void By_default_every_non_loopback_destination_goes_through_the_pod(string destination, bool remote)
    {
        var destinations = new RemoteDestinations(new OutgoingSettings(), [ApiServer]);
        Assert.Equal(remote, destinations.IsRemote(IPEndPoint.Parse(destination), ProtocolType.Tcp));
    }

    [Fact]
    public void Local_filters_keep_chosen_destinations_local_and_win_over_remote_ones()
    {
        var destinations = new RemoteDestinations(new OutgoingSettings
        {
            Local = ["10.0.0.0/8", "udp://:53", "db.corp.example"],
            Remote = ["10.1.2.3", "127.0.0.1:6379"],
        });
        destinations.Learn("db.corp.example", [IPAddress.Parse("198.51.100.7")]);

        Assert.False(destinations.IsRemote(IPEndPoint.Parse("10.1.2.3:80"), ProtocolType.Tcp));
        Assert.False(destinations.IsRemote(IPEndPoint.Parse("172.20.0.10:53"), ProtocolType.Udp));
        Assert.True(destinations.IsRemote(IPEndPoint.Parse("172.20.0.10:53"), ProtocolType.Tcp));
        Assert.False(destinations.IsRemote(IPEndPoint.Parse("198.51.100.7:5432"), ProtocolType.Tcp));
        Assert.False(destinations.IsRemote(IPEndPoint.Parse("127.0.0.1:6379"), ProtocolType.Tcp));
    }

    [Fact]
    public void A_remote_filter_sends_the_session_endpoints_address_through_the_pod_when_asked()
    {
        var destinations = new RemoteDestinations(new OutgoingSettings { Remote = ["192.168.49.2/32"] }, [ApiServer]);
        Assert.True(destinations.IsRemote(ApiServer, ProtocolType.Tcp));
    }

    [Fact]
    public void With_default_local_only_remote_filters_and_names_resolved_in_the_pod_go_through_it()
    {
        var destinations = new RemoteDestinations(new OutgoingSettings { Default = OutgoingDefault.Local, Remote = ["tcp://10.96.0.0/12"] });
        destinations.Learn("redis.shop.svc.cluster.local", [IPAddress.Parse("10.244.0.9")]);

        Assert.True(destinations.IsRemote(IPEndPoint.Parse("10.96.0.1:443"), ProtocolType.Tcp));
        Assert.False(destinations.IsRemote(IPEndPoint.Parse("10.96.0.10:53"), ProtocolType.Udp));
        Assert.True(destinations.IsRemote(IPEndPoint.Parse("10.244.0.9:6379"), ProtocolType.Tcp));
        Assert.False(destinations.IsRemote(IPEndPoint.Parse("10.244.1.7:8080"), ProtocolType.Tcp));
        Assert.False(destinations.IsRemote(IPEndPoint.Parse("203.0.113.10:5432"), ProtocolType.Tcp));
    }

    [Fact]
    public void A_protocol_turned_off_stays_local()
    {
        var destinations = new RemoteDestinations(new OutgoingSettings { Udp = false });
        Assert.False(destinations.IsRemote(IPEndPoint.Parse("10.96.0.10:53"), ProtocolType.Udp));
        Assert.True(destinations.IsRemote(IPEndPoint.Parse("10.96.0.10:53"), ProtocolType.Tcp));
    }
}
