using System.Globalization;
using System.Text.RegularExpressions;

namespace ClusterContext.Hooks.FileSystem;

/// <summary>
/// Where a process keeps its copies of the pod's files (the service-account token and mounted secrets among them):
/// a folder of its own inside the user's <c>clustercontext-UID</c> folder in the temp directory, both mode 0700. The
/// session removes its folder when it ends; a process that could not (SIGKILL, a crash, a power cut) leaves it behind,
/// so every start first removes the folders whose process is gone. A folder's name says whose it is: the process id
/// and its start time (a reused process id does not keep a dead process's folder alive).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static partial class CacheFolder
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The user's folder of process folders: <c>$TMPDIR/clustercontext-UID</c>.</summary>
    public static string UserFolder => Path.Combine(Path.GetTempPath(), $"clustercontext-{Patching.Internal.LibC.GetEffectiveUserId().ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Sweeps what dead processes left, then makes this process's folder.</summary>
    public static string Create()
    {
        // This machine's files (the temp folder, this machine's /proc), whatever the hooks would make of the paths.
        using var bypass = HookBypass.Enter();
        var user = UserFolder;
        try
        {
            Directory.CreateDirectory(user, OwnerOnly);

            EnsureOwn(user);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            SweepLegacy();
            return Directory.CreateTempSubdirectory($"clustercontext-{Environment.ProcessId}-").FullName;
        }

        Sweep(user);
        SweepLegacy();
        var folder = Path.Combine(user, $"{Environment.ProcessId}-{StartTime(Environment.ProcessId)}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder, OwnerOnly);
        return folder;
    }

    /// <summary>
    /// Makes sure <paramref name="folder"/> is a directory of this user's (not a link, not someone else's: root may
    /// change any folder's mode, so the mode alone proves nothing) and leaves it 0700.
    /// </summary>
    internal static void EnsureOwn(string folder)
    {
        var euid = Patching.Internal.LibC.GetEffectiveUserId();
        if (Patching.Internal.LibC.OwnerOf(folder) is { } found && (found.Owner != euid || !found.Directory))
        {
            throw new UnauthorizedAccessException(found.Directory
                ? $"{folder} belongs to user {found.Owner.ToString(CultureInfo.InvariantCulture)}, not to this user ({euid.ToString(CultureInfo.InvariantCulture)})"
                : $"{folder} is not a directory (a symbolic link, say)");
        }

        File.SetUnixFileMode(folder, OwnerOnly);
    }

    /// <summary>Removes the process folders in <paramref name="user"/> whose process is gone.</summary>
    internal static void Sweep(string user)
    {
        foreach (var folder in Directory.EnumerateDirectories(user))
        {
            var match = ProcessFolder().Match(Path.GetFileName(folder));
            if (match.Success && StartTime(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)) != match.Groups[2].Value)
            {
                Delete(folder);
            }
        }
    }

    /// <summary>Folders of the earlier layout (<c>$TMPDIR/clustercontext-PID-XXXX</c>) whose process is gone.</summary>
    private static void SweepLegacy()
    {
        try
        {
            foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), "clustercontext-*-*"))
            {
                var match = LegacyFolder().Match(Path.GetFileName(folder));
                if (match.Success && !Directory.Exists($"/proc/{match.Groups[1].Value}"))
                {
                    Delete(folder);
                }
            }
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
        }
    }

    private static void Delete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            // Another user's, or being removed by its own process right now.
        }
    }

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/PID/stat); empty when it is gone.</summary>
    internal static string StartTime(int pid) => Stat(pid) is { } fields ? fields[19] : "";

    /// <summary>
    /// Whether process <paramref name="pid"/>, started at <paramref name="startTime"/> (<see cref="StartTime"/>), still
    /// runs: not when it is gone, a zombie (dead, not yet reaped by its parent), or another process with its pid.
    /// </summary>
    internal static bool IsRunning(int pid, string startTime) =>
        Stat(pid) is { } fields && fields[19] == startTime && fields[0] is not ("Z" or "X" or "x");

    /// <summary>The fields of <c>/proc/PID/stat</c> after the command's name (the state first), or null.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(\d+)-(\d+)-[0-9a-f]{32}$")]
    private static partial Regex ProcessFolder();

    [GeneratedRegex(@"^clustercontext-(\d+)-[A-Za-z0-9]+$")]
    private static partial Regex LegacyFolder();
}
