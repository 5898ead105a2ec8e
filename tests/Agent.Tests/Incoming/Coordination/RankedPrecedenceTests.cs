using System.Buffers;
using System.Text;
using ClusterContext.Agent.Incoming;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Tests.Incoming.Coordination;

/// <summary>After a takeover, claims are made again in whatever order the agents reconnect; their rank keeps the first subscriber first.</summary>
public class RankedPrecedenceTests
{
    private readonly IncomingSession _alice = new("s1", "agent 10");
    private readonly IncomingSession _bob = new("s1", "agent 20");
    private readonly IncomingSession _carol = new("s1", "agent 30");

    private static Subscription Steal(IncomingSession session, string header, long rank) =>
        new(session, IncomingMode.Steal, RequestFilter.Compile(new HttpFilter(HttpFilterKind.Header, header, [])), rank);

    private static HttpRequestHead Request(string header)
    {
        HttpHeadParser.TryParseRequest(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes($"GET / HTTP/1.1\r\n{header}\r\n\r\n")), out var head);
        return head!;
    }

    [Theory]
    [InlineData(0, 1, 2)]
    [InlineData(2, 1, 0)]
    [InlineData(1, 2, 0)]
    [InlineData(2, 0, 1)]
    public void Claims_made_again_in_any_order_keep_their_first_subscribed_precedence(int first, int second, int third)
    {
        var claims = new[] { Steal(_alice, "^x-dev: ", 100), Steal(_bob, "^x-dev: bob$", 200), Steal(_carol, "^x-dev: (bob|carol)$", 300) };
        var port = new PortSubscriptions(8080);
        foreach (var index in new[] { first, second, third })
        {
            port.Add(claims[index]);
        }

        Assert.Equal([_alice, _bob, _carol], port.Current.Select(s => s.Session));
        Assert.Same(_alice, PortSubscriptions.StealerOf(port.Current, Request("X-Dev: bob"))!.Session);
        port.Remove(_alice);
        Assert.Same(_bob, PortSubscriptions.StealerOf(port.Current, Request("X-Dev: bob"))!.Session);
        Assert.Same(_carol, PortSubscriptions.StealerOf(port.Current, Request("X-Dev: carol"))!.Session);
    }

    [Fact]
    public void A_replaced_claim_keeps_its_place()
    {
        var port = new PortSubscriptions(8080);
        port.Add(Steal(_alice, "^x-dev: a$", 100));
        port.Add(Steal(_bob, "^x-dev: b$", 200));
        port.Add(Steal(_alice, "^x-dev: b$", 100));
        Assert.Equal([_alice, _bob], port.Current.Select(s => s.Session));
        Assert.Same(_alice, PortSubscriptions.StealerOf(port.Current, Request("X-Dev: b"))!.Session);
    }

    [Fact]
    public void Just_after_a_takeover_routing_sees_the_mirrors_but_no_steal_and_a_follower_that_comes_back_keeps_the_hold_on()
    {
        var hold = new ClusterContext.Agent.Incoming.Coordination.TakeoverHold();
        var port = new PortSubscriptions(8080, hold);
        port.Add(Steal(_carol, "^x-dev: bob$", 300));
        port.Add(new Subscription(_alice, IncomingMode.Mirror, null, 100));
        Assert.Equal(2, port.Routing.Length);

        hold.Begin();
        Assert.True(hold.IsHeld);
        Assert.Equal([_alice], port.Routing.Select(s => s.Session));
        Assert.Null(PortSubscriptions.StealerOf(port.Routing, Request("X-Dev: bob")));
        Assert.Equal(2, port.Current.Length);
        hold.Extend();
        Assert.True(hold.IsHeld);
    }

    [Fact]
    public void A_hold_that_never_began_holds_nothing_and_a_follower_joining_begins_none()
    {
        var hold = new ClusterContext.Agent.Incoming.Coordination.TakeoverHold();
        hold.Extend();
        Assert.False(hold.IsHeld);
        var port = new PortSubscriptions(8080, hold);
        port.Add(Steal(_bob, "^x-dev: bob$", 200));
        Assert.Same(_bob, PortSubscriptions.StealerOf(port.Routing, Request("X-Dev: bob"))!.Session);
    }

    [Fact]
    public void Sessions_of_coordinating_agents_are_named_with_their_agent()
    {
        Assert.Equal("session s1 of agent 10 (?)", _alice.ToString());
        Assert.Equal("session s1 (?)", new IncomingSession("s1").ToString());
    }
}
