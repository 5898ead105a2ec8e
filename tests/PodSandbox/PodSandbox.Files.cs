namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    /// <summary>
    /// Writes or replaces a pod file while the pod runs, as the kubelet does when a ConfigMap or Secret changes:
    /// in a volume the change is an atomic <c>..data</c> swap. The path must be in a volume (a directory that held a
    /// file of <see cref="PodSandboxOptions.Files"/> at start) or be a single-file mount.
    /// </summary>
    public Task WritePodFileAsync(string containerPath, byte[] content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _volumes!.WriteAsync(containerPath, content, cancellationToken);
    }
}
