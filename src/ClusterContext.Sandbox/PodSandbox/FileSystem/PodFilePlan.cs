namespace ClusterContext.Testing.Sandbox.FileSystem;

/// <summary>
/// Decides how pod files are mounted, the way a pod spec would have them: files sharing a directory form one volume
/// mounted on that directory; a file directly in a directory of the root file system is mounted alone (a subPath).
/// </summary>
internal sealed class PodFilePlan
{
    private PodFilePlan(IReadOnlyDictionary<string, IReadOnlyDictionary<string, byte[]>> volumes, IReadOnlyDictionary<string, byte[]> singleFiles)
    {
        Volumes = volumes;
        SingleFiles = singleFiles;
    }

    /// <summary>Volumes by container mount directory; each maps a path relative to that directory to its content.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, byte[]>> Volumes { get; }

    /// <summary>Files mounted one by one, by container path.</summary>
    public IReadOnlyDictionary<string, byte[]> SingleFiles { get; }

    public static PodFilePlan Create(IReadOnlyDictionary<string, byte[]> files)
    {
        foreach (var (path, content) in files)
        {
            ContainerPaths.Validate(path);
            ArgumentNullException.ThrowIfNull(content, $"Files[{path}]");
            var clash = files.Keys.FirstOrDefault(other => other != path && ContainerPaths.IsSameOrUnder(path, other));
            if (clash is not null)
            {
                throw new ArgumentException($"Pod file '{path}' would be inside '{clash}', which is itself a file.", nameof(files));
            }
        }

        var singleFiles = files.Where(f => ContainerPaths.RootDirectories.Contains(ContainerPaths.Parent(f.Key)))
            .ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

        // A directory nested in another candidate belongs to the outer volume, as with one volume holding subfolders.
        var candidates = files.Keys.Where(p => !singleFiles.ContainsKey(p)).Select(ContainerPaths.Parent).Distinct().ToList();
        var mountDirectories = candidates.Where(d => !candidates.Any(o => o != d && ContainerPaths.IsSameOrUnder(d, o))).ToList();
        var volumes = mountDirectories.ToDictionary(
            d => d,
            d => (IReadOnlyDictionary<string, byte[]>)files
                .Where(f => !singleFiles.ContainsKey(f.Key) && ContainerPaths.IsSameOrUnder(f.Key, d))
                .ToDictionary(f => f.Key[(d.Length + 1)..], f => f.Value, StringComparer.Ordinal),
            StringComparer.Ordinal);
        return new PodFilePlan(volumes, singleFiles);
    }
}
