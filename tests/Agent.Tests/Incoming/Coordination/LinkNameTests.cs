using ClusterContext.Agent.Incoming.Coordination;

namespace ClusterContext.Agent.Tests.Incoming.Coordination;

public class LinkNameTests
{
    [Theory]
    [InlineData(123456789012L, "s1 of agent 42", "ClusterContext/1.0 orders-api")]
    [InlineData(-5L, "s7 of agent 1", "")]
    [InlineData(0L, "s1", "a name\nwith a line break")]
    public void What_a_follower_says_is_what_the_leader_reads(long rank, string session, string client)
    {
        Assert.True(LinkName.TryParse(LinkName.Format(rank, session, client), out var readRank, out var readSession, out var readClient));
        Assert.Equal((rank, session, client), (readRank, readSession, readClient));
    }

    [Theory]
    [InlineData("functional-tests")]
    [InlineData("12\ns1")]
    [InlineData("x\ns1\nalice")]
    [InlineData("12\n\nalice")]
    public void A_hello_that_is_not_a_followers_is_not_read(string text) =>
        Assert.False(LinkName.TryParse(text, out _, out _, out _));
}
