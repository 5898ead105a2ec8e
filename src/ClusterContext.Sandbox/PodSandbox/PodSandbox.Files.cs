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

    /// <summary>
    /// Replaces the whole content of the pod volume mounted on <paramref name="mountDirectory"/> (a directory that held
    /// files of <see cref="PodSandboxOptions.Files"/> at start) with <paramref name="files"/> (paths relative to it), as
    /// the kubelet does when the ConfigMap or Secret behind it changes: one atomic <c>..data</c> swap, nothing when the
    /// content is already that. Returns whether it wrote.
    /// </summary>
    public Task<bool> PublishVolumeAsync(string mountDirectory, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _volumes!.PublishAsync(mountDirectory, files, cancellationToken);
    }

    /// <summary>The container directories on which pod volumes are mounted (each one updatable by <see cref="PublishVolumeAsync"/>).</summary>
    public IReadOnlyList<string> VolumeDirectories => [.. _volumes!.VolumeDirectories];
}
