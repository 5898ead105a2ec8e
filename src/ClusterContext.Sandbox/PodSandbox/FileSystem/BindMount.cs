namespace ClusterContext.Testing.Sandbox.FileSystem;

/// <summary>One bind mount made inside the app container's own mount namespace.</summary>
/// <param name="Source">The host path that is mounted.</param>
/// <param name="Target">The host path of the mount point inside the root file system.</param>
/// <param name="ReadOnly">Whether the container sees it read-only (volumes and <c>/usr</c> are; device nodes are not).</param>
internal sealed record BindMount(string Source, string Target, bool ReadOnly);
