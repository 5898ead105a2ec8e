using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ClusterContext.Testing.Sandbox.FileSystem;

/// <summary>
/// A host directory laid out like the kubelet's ConfigMap/Secret/projected volumes: the files live in a
/// <c>..&lt;timestamp&gt;</c> directory, <c>..data</c> points at it, and each visible name is a relative symlink
/// through <c>..data</c>. An update writes a new timestamp directory and swaps <c>..data</c> with one rename, so a
/// reader in the container sees either the old or the new set of files, never a mix.
/// </summary>
internal sealed class AtomicWriterVolume(string containerDirectory, string hostDirectory)
{
    private const string DataLink = "..data";

    public string ContainerDirectory { get; } = containerDirectory;

    public string HostDirectory { get; } = hostDirectory;

    /// <summary>Replaces the volume's whole content with <paramref name="files"/> (paths relative to the volume).</summary>
    public async Task PublishAsync(IReadOnlyDictionary<string, byte[]> files, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(HostDirectory);
        var previous = CurrentDataDirectory();
        var timestamped = NewTimestampedName();
        foreach (var (relativePath, content) in files)
        {
            var hostPath = Path.Combine(HostDirectory, timestamped, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(hostPath)!);
            await File.WriteAllBytesAsync(hostPath, content, cancellationToken).ConfigureAwait(false);
        }

        var temporaryLink = Path.Combine(HostDirectory, DataLink + "_tmp");
        File.Delete(temporaryLink);
        File.CreateSymbolicLink(temporaryLink, timestamped);
        if (Libc.Rename(temporaryLink, Path.Combine(HostDirectory, DataLink)) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"Could not swap {DataLink} in {HostDirectory}");
        }

        var visibleNames = files.Keys.Select(p => p.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var name in visibleNames)
        {
            var link = Path.Combine(HostDirectory, name);
            if (!Path.Exists(link))
            {
                File.CreateSymbolicLink(link, $"{DataLink}/{name}");
            }
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

    private string? CurrentDataDirectory() => new FileInfo(Path.Combine(HostDirectory, DataLink)).LinkTarget;

    private static string NewTimestampedName() =>
        string.Create(CultureInfo.InvariantCulture, $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{Random.Shared.Next(100_000_000, 1_000_000_000)}");
}
