using System.Text.RegularExpressions;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Hooks.FileSystem;

/// <summary>
/// Decides, for a full path, whether it is served locally or from the pod. The configured lists are regular
/// expressions and the most specific match wins (the longest matched text; on a tie notFound, then local, then
/// readWrite, then readOnly). With no match, the pod's volume mounts and the service-account folder are remote and
/// everything else is local.
/// </summary>
internal sealed class PathRules
{
    private static readonly string[] SystemMounts = ["/", "/proc", "/dev", "/sys", "/usr", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run", "/tmp"];

    private readonly FileSystemMode _mode;
    private readonly List<(Regex Pattern, PathDisposition Disposition, int Rank)> _rules = [];
    private readonly List<string> _remoteRoots;
    private readonly List<string> _localRoots;

    public PathRules(FileSystemSettings settings, IEnumerable<MountEntry> podMounts, IEnumerable<string> localRoots)
    {
        _mode = settings.Mode;
        var remoteList = _mode == FileSystemMode.Write ? PathDisposition.RemoteReadWrite : PathDisposition.RemoteRead;
        Add(settings.NotFound, PathDisposition.NotFound, 0);
        Add(settings.Local, PathDisposition.Local, 1);
        Add(settings.ReadWrite, PathDisposition.RemoteReadWrite, 2);
        Add(settings.ReadOnly, remoteList, 3);
        _remoteRoots = [.. podMounts.Select(m => m.MountPoint).Where(IsVolume).Append("/var/run/secrets").Distinct()];
        _localRoots = [.. localRoots.Where(r => r.Length > 1).Select(r => r.TrimEnd('/'))];
    }

    public IReadOnlyList<string> RemoteRoots => _remoteRoots;

    public PathDisposition Classify(string fullPath)
    {
        if (_mode == FileSystemMode.Local || fullPath.Length == 0 || fullPath[0] != '/')
        {
            return PathDisposition.Local;
        }

        var best = (Length: -1, Rank: int.MaxValue, Disposition: PathDisposition.Local);
        foreach (var (pattern, disposition, rank) in _rules)
        {
            var match = pattern.Match(fullPath);
            if (match.Success && (match.Length > best.Length || (match.Length == best.Length && rank < best.Rank)))
            {
                best = (match.Length, rank, disposition);
            }
        }

        if (best.Length >= 0)
        {
            return best.Disposition;
        }

        if (_mode == FileSystemMode.LocalWithOverrides || _localRoots.Exists(root => IsUnder(fullPath, root)))
        {
            return PathDisposition.Local;
        }

        return _remoteRoots.Exists(root => IsUnder(fullPath, root))
            ? _mode == FileSystemMode.Write ? PathDisposition.RemoteReadWrite : PathDisposition.RemoteRead
            : PathDisposition.Local;
    }

    private void Add(IEnumerable<string> patterns, PathDisposition disposition, int rank)
    {
        // A loop, not a Select into tuples: a query over value tuples is compiled by the JIT at the start, before Main.
        foreach (var pattern in patterns)
        {
            _rules.Add((new Regex(pattern, RegexOptions.CultureInvariant), disposition, rank));
        }
    }

    private static bool IsVolume(string mountPoint) =>
        !SystemMounts.Any(system => mountPoint == system || (system != "/" && mountPoint.StartsWith(system + "/", StringComparison.Ordinal)));

    private static bool IsUnder(string path, string root) =>
        path.StartsWith(root, StringComparison.Ordinal) && (path.Length == root.Length || path[root.Length] == '/' || root == "/");
}
