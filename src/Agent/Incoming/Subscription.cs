using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Incoming;

/// <summary>One session's claim on a pod port: steal or mirror, all of it or the HTTP requests its filter matches.</summary>
internal sealed record Subscription(IncomingSession Session, IncomingMode Mode, RequestFilter? Filter)
{
    public bool Takes(HttpRequestHead request) => Filter is null || Filter.Matches(request);
}
