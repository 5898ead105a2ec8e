using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Incoming;

/// <summary>One session's claim on a pod port: steal or mirror, all of it or the HTTP requests its filter matches.</summary>
/// <param name="Rank">
/// When the claim was first made (a CLOCK_MONOTONIC timestamp, shared by every agent of the pod's kernel): the
/// precedence between overlapping claims, kept when another agent takes over and the claims are made again.
/// </param>
internal sealed record Subscription(IncomingSession Session, IncomingMode Mode, RequestFilter? Filter, long Rank = 0)
{
    public bool Takes(HttpRequestHead request) => Filter is null || Filter.Matches(request);
}
