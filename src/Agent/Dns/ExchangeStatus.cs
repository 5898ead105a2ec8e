namespace ClusterContext.Agent.Dns;

internal enum ExchangeStatus
{
    /// <summary>At least one response was kept; the query is settled by this server.</summary>
    Answered,

    /// <summary>Nothing usable came back: the next server is asked.</summary>
    NextServer,

    /// <summary>A response was truncated: the same server is asked again over TCP, and the servers after it too.</summary>
    UseTcp,
}
