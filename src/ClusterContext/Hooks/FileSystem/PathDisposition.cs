namespace ClusterContext.Hooks.FileSystem;

/// <summary>Where a path is served from.</summary>
internal enum PathDisposition
{
    /// <summary>This machine.</summary>
    Local,

    /// <summary>Read from the pod; writes go to a local copy.</summary>
    RemoteRead,

    /// <summary>Read from and written to the pod.</summary>
    RemoteReadWrite,

    /// <summary>Behaves as missing.</summary>
    NotFound,
}
