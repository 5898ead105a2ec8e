using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>A subscription of one of this agent's sessions, kept to be made again at a new leader; with its link while this agent follows.</summary>
internal sealed class LocalSubscription(IncomingSession session, SubscribeRequest request, long rank)
{
    public IncomingSession Session { get; } = session;

    public ushort Port => Request.Port;

    public SubscribeRequest Request { get; set; } = request;

    public long Rank { get; } = rank;

    public LeaderLink? Link { get; set; }
}
