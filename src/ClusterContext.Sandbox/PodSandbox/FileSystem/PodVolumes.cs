using System.Globalization;

namespace ClusterContext.Testing.Sandbox.FileSystem;

/// <summary>
/// The host side of the pod's volumes. They live outside the root file system and reach the container only through
/// bind mounts in its own mount namespace, so a pod file never exists on the host at its container path.
/// </summary>
internal sealed class PodVolumes : IDisposable
{
    private readonly List<AtomicWriterVolume> _volumes = [];
    private readonly Dictionary<string, string> _singleFiles = new(StringComparer.Ordinal);
    private readonly List<BindMount> _mounts = [];
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private PodVolumes()
    {
    }

    /// <summary>The mounts, parents before anything below them.</summary>
    public IReadOnlyList<BindMount> Mounts => _mounts;

    public static async Task<PodVolumes> CreateAsync(PodFilePlan plan, string volumesRoot, string rootFs, CancellationToken cancellationToken)
    {
        var volumes = new PodVolumes();
        foreach (var (mountDirectory, files) in plan.Volumes.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            var volume = new AtomicWriterVolume(mountDirectory, Path.Combine(volumesRoot, HostName(volumes._volumes.Count, mountDirectory)));
            await volume.PublishAsync(files, cancellationToken).ConfigureAwait(false);
            var target = ContainerPaths.OnHost(rootFs, mountDirectory);
            Directory.CreateDirectory(target);
            volumes._volumes.Add(volume);
            volumes._mounts.Add(new BindMount(volume.HostDirectory, target, ReadOnly: true));
        }

        var singleFilesRoot = Path.Combine(volumesRoot, "subpath");
        Directory.CreateDirectory(singleFilesRoot);
        foreach (var (containerPath, content) in plan.SingleFiles.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var source = Path.Combine(singleFilesRoot, HostName(volumes._singleFiles.Count, containerPath));
            await File.WriteAllBytesAsync(source, content, cancellationToken).ConfigureAwait(false);
            var target = ContainerPaths.OnHost(rootFs, containerPath);
            if (!File.Exists(target))
            {
                await File.WriteAllBytesAsync(target, [], cancellationToken).ConfigureAwait(false);
            }

            volumes._singleFiles[containerPath] = source;
            volumes._mounts.Add(new BindMount(source, target, ReadOnly: true));
        }

        return volumes;
    }

    /// <summary>
    /// Changes a pod file the way the kubelet would: a volume gets a new atomic-writer generation; a single file is
    /// rewritten in place, since a bind-mounted file keeps showing the inode it was mounted with.
    /// </summary>
    public async Task WriteAsync(string containerPath, byte[] content, CancellationToken cancellationToken)
    {
        ContainerPaths.Validate(containerPath);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_singleFiles.TryGetValue(containerPath, out var source))
            {
                await using var stream = new FileStream(source, FileMode.Truncate, FileAccess.Write);
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                return;
            }

            var volume = _volumes.FirstOrDefault(v => ContainerPaths.IsSameOrUnder(containerPath, v.ContainerDirectory) && containerPath != v.ContainerDirectory)
                ?? throw new InvalidOperationException(
                    $"'{containerPath}' is not in a pod volume; list a file in its directory in {nameof(PodSandboxOptions)}.{nameof(PodSandboxOptions.Files)} before start.");
            var files = await volume.ReadAsync(cancellationToken).ConfigureAwait(false);
            files[containerPath[(volume.ContainerDirectory.Length + 1)..]] = content;
            await volume.PublishAsync(files, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Replaces the whole content of the volume mounted on <paramref name="mountDirectory"/>, as the kubelet projects
    /// a changed ConfigMap or Secret; false when the content was already that.
    /// </summary>
    public async Task<bool> PublishAsync(string mountDirectory, IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        var volume = _volumes.FirstOrDefault(v => v.ContainerDirectory == mountDirectory)
            ?? throw new InvalidOperationException($"No pod volume is mounted on '{mountDirectory}'.");
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await volume.PublishAsync(files, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The container directories pod volumes are mounted on.</summary>
    public IEnumerable<string> VolumeDirectories => _volumes.Select(v => v.ContainerDirectory);

    // The index keeps names unique even when two paths flatten to the same text (/a-b and /a/b).
    public void Dispose() => _writeLock.Dispose();

    private static string HostName(int index, string containerPath) =>
        string.Create(CultureInfo.InvariantCulture, $"{index}{containerPath.Replace('/', '-')}");
}
