using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ClusterContext.Testing.Sandbox.FileSystem;

/// <summary>
/// A host directory laid out like the kubelet's ConfigMap/Secret/projected volumes, written in the order of the
/// kubelet's atomic writer: the files go to a new <c>..&lt;timestamp&gt;</c> directory, a visible name for each new
/// top-level entry is a relative symlink through <c>..data</c>, a <c>..data_tmp</c> symlink to the new directory is
/// renamed over <c>..data</c> (one atomic step: a reader in the container sees the old or the new set of files, never
/// a mix), then names no longer in the payload and the previous directory go. A payload equal to what is there
/// writes nothing.
/// </summary>
internal sealed class AtomicWriterVolume(string containerDirectory, string hostDirectory)
{
    private const string DataLink = "..data";

    /// <summary>The mode the kubelet gives a projected file unless the volume says otherwise (defaultMode 0644).</summary>
    private const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public string ContainerDirectory { get; } = containerDirectory;

    public string HostDirectory { get; } = hostDirectory;

    /// <summary>Replaces the volume's whole content with <paramref name="files"/> (paths relative to the volume); false when nothing changed.</summary>
    public async Task<bool> PublishAsync(IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(HostDirectory);
        var previous = CurrentDataDirectory();
        if (previous is not null && await SameAsync(files, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var timestamped = NewTimestampedName();
        var timestampedPath = Path.Combine(HostDirectory, timestamped);
        Directory.CreateDirectory(timestampedPath);
        SetMode(timestampedPath, DefaultMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        foreach (var (relativePath, content) in files)
        {
            var hostPath = Path.Combine(timestampedPath, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(hostPath)!);
            await File.WriteAllBytesAsync(hostPath, content, cancellationToken).ConfigureAwait(false);
            SetMode(hostPath, DefaultMode); // whatever the umask, as the kubelet chmods
        }

        var visibleNames = files.Keys.Select(p => p.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var name in visibleNames)
        {
            var link = Path.Combine(HostDirectory, name);
            if (!Path.Exists(link) && new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, $"{DataLink}/{name}");
            }
        }

        var temporaryLink = Path.Combine(HostDirectory, DataLink + "_tmp");
        File.Delete(temporaryLink);
        File.CreateSymbolicLink(temporaryLink, timestamped);
        if (Libc.Rename(temporaryLink, Path.Combine(HostDirectory, DataLink)) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"Could not swap {DataLink} in {HostDirectory}");
        }

        foreach (var entry in new DirectoryInfo(HostDirectory).EnumerateFileSystemInfos())
        {
            if (!entry.Name.StartsWith("..", StringComparison.Ordinal) && !visibleNames.Contains(entry.Name))
            {
                entry.Delete();
            }
        }

        if (previous is not null)
        {
            Directory.Delete(Path.Combine(HostDirectory, previous), recursive: true);
        }

        return true;
    }

    /// <summary>The current files, read back from the host, paths relative to the volume.</summary>
    public async Task<Dictionary<string, byte[]>> ReadAsync(CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var current = CurrentDataDirectory();
        if (current is null)
        {
            return files;
        }

        var root = Path.Combine(HostDirectory, current);
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            files[Path.GetRelativePath(root, path)] = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }

        return files;
    }

    private async Task<bool> SameAsync(IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        var current = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return current.Count == files.Count && files.All(f => current.TryGetValue(f.Key, out var content) && content.AsSpan().SequenceEqual(f.Value));
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private string? CurrentDataDirectory() => new FileInfo(Path.Combine(HostDirectory, DataLink)).LinkTarget;

    private static string NewTimestampedName() =>
        string.Create(CultureInfo.InvariantCulture, $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{Random.Shared.Next(100_000_000, 1_000_000_000)}");
}
