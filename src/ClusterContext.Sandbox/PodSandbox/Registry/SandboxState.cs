namespace ClusterContext.Testing.Sandbox.Registry;

/// <summary>
/// What one sandbox owns, persisted under <c>/run/clustercontext-sandbox</c> so that a later run can remove it if
/// the owning test process died without disposing it.
/// </summary>
internal sealed class SandboxState
{
    public int Index { get; set; }

    public int OwnerPid { get; set; }

    public long OwnerStartTime { get; set; }

    public string PodNamespace { get; set; } = "";

    public string ServicesNamespace { get; set; } = "";

    public string HostInterface { get; set; } = "";

    public string UnreachableRoute { get; set; } = "";

    public string? TempDirectory { get; set; }

    public List<SandboxStateProcess> Processes { get; set; } = [];
}
