using System.Buffers;
using System.Text;
using ClusterContext.Agent.Incoming;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Tests.Incoming;

public class PortSubscriptionsTests
{
    private readonly IncomingSession _alice = new("s1");
    private readonly IncomingSession _bob = new("s2");

    private static Subscription Steal(IncomingSession session, string? header) =>
        new(session, IncomingMode.Steal, header is null ? null : RequestFilter.Compile(new HttpFilter(HttpFilterKind.Header, header, [])));

    private static HttpRequestHead Request(string header)
    {
        HttpHeadParser.TryParseRequest(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes($"GET / HTTP/1.1\r\n{header}\r\n\r\n")), out var head);
        return head!;
    }

    [Fact]
    public void Two_filtered_sessions_each_get_their_requests_and_the_rest_goes_to_the_app()
    {
        var port = new PortSubscriptions(8080);
        Assert.Equal("", port.Add(Steal(_alice, "^x-dev: alice$")));
        Assert.Equal("", port.Add(Steal(_bob, "^x-dev: bob$")));
        Assert.Same(_alice, PortSubscriptions.StealerOf(port.Current, Request("X-Dev: alice"))!.Session);
        Assert.Same(_bob, PortSubscriptions.StealerOf(port.Current, Request("X-Dev: bob"))!.Session);
        Assert.Null(PortSubscriptions.StealerOf(port.Current, Request("X-Dev: carol")));
    }

    [Fact]
    public void Overlapping_filters_go_to_the_first_subscriber_and_the_second_is_told()
    {
        var port = new PortSubscriptions(8080);
        port.Add(Steal(_alice, "^x-dev: "));
        var notice = port.Add(Steal(_bob, "^x-dev: bob$"));
        Assert.Contains("session s1", notice, StringComparison.Ordinal);
        Assert.Contains("subscribed first", notice, StringComparison.Ordinal);
        Assert.Same(_alice, PortSubscriptions.StealerOf(port.Current, Request("X-Dev: bob"))!.Session);
    }

    [Fact]
    public void An_unfiltered_steal_of_a_filtered_port_is_refused_naming_the_session()
    {
        var port = new PortSubscriptions(8080);
        port.Add(Steal(_alice, "^x-dev: alice$"));
        var error = Assert.Throws<RemoteException>(() => port.Add(Steal(_bob, null)));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains("session s1", error.Message, StringComparison.Ordinal);
        Assert.Single(port.Current);
    }

    [Fact]
    public void A_filtered_steal_of_a_port_stolen_whole_is_refused()
    {
        var port = new PortSubscriptions(8080);
        port.Add(Steal(_alice, null));
        Assert.Throws<RemoteException>(() => port.Add(Steal(_bob, "^x-dev: bob$")));
        Assert.Same(_alice, PortSubscriptions.WholePortSteal(port.Current)!.Session);
    }

    [Fact]
    public void Mirrors_do_not_conflict_with_steals_and_a_session_resubscribing_replaces_its_claim()
    {
        var port = new PortSubscriptions(8080);
        port.Add(Steal(_alice, "^x-dev: alice$"));
        port.Add(new Subscription(_bob, IncomingMode.Mirror, null));
        port.Add(Steal(_alice, "^x-dev: alice2$"));
        Assert.Equal(2, port.Current.Length);
        Assert.Null(PortSubscriptions.StealerOf(port.Current, Request("X-Dev: alice")));
        Assert.True(port.Remove(_alice));
        Assert.False(port.Remove(_alice));
        Assert.Null(PortSubscriptions.WholePortSteal(port.Current));
        Assert.False(PortSubscriptions.NeedsHttp(port.Current));
    }
}
