namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>Which step of programming nftables failed; the same errno means different fixes in different steps.</summary>
internal enum RedirectStep
{
    Socket,
    Batch,
    Table,
    Chain,
    Rule,
    Reply,
}
