using ClusterContext.Testing.Sandbox.FileSystem;
using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox;

public sealed partial class PodSandbox
{
    /// <summary>
    /// Runs in the app's own mount namespace: makes the mounts given as (source, target, ro|rw) triples up to
    /// "--", mounts /proc, then execs chroot with the rest. Everything variable arrives as a positional parameter,
    /// so no option value is ever parsed as shell code.
    /// </summary>
    private const string ContainerScript = """
        set -e
        mount=$1 chroot=$2 root=$3
        shift 3
        while [ "$1" != "--" ]; do
          "$mount" --bind "$1" "$2"
          if [ "$3" = ro ]; then "$mount" -o remount,bind,ro "$2"; fi
          shift 3
        done
        shift
        "$mount" -t proc -o nosuid,nodev,noexec proc "$root/proc"
        exec "$chroot" "$root" "$@"
        """;

    /// <summary>
    /// nsenter (pod network), unshare (new mount namespace), sh, chroot and env all exec in place without forking,
    /// so the pid of the process started here ends up being the app container's pid.
    /// </summary>
    /// <remarks>
    /// The private copy of the host's mounts includes the /run/netns mounts of other sandboxes running then. That
    /// does not keep their namespaces alive: `ip netns del` unlinks the mount point, which since Linux 3.18 detaches
    /// the mounts on it in every mount namespace.
    /// </remarks>
    private TrackedProcess StartApp(IEnumerable<BindMount> mounts)
    {
        List<string> arguments = ["--mount", "--propagation", "private", "--", _tools.Shell, "-c", ContainerScript, "sh", _tools.Mount, _tools.Chroot, RootFsPath];
        foreach (var mount in mounts)
        {
            arguments.AddRange([mount.Source, mount.Target, mount.ReadOnly ? "ro" : "rw"]);
        }

        arguments.AddRange(["--", _tools.Env, "-i", "--"]);
        arguments.AddRange(Environment.Select(e => $"{e.Key}={e.Value}"));
        arguments.AddRange(_appCommand);
        return Track(TrackedProcess.StartCapturing("app container", InNetworkNamespace(PodNetworkNamespace, _tools.Unshare, arguments)));
    }

    /// <summary>
    /// The start is done when the pid's root is the root file system and its environment is exactly the pod's:
    /// only after env's final exec does /proc/pid/environ show the new environment.
    /// </summary>
    private string? AppContainerState()
    {
        var root = ProcFs.TryReadRootLink(AppPid);
        if (root != RootFsPath)
        {
            return $"/proc/{AppPid}/root is '{root}', not '{RootFsPath}'";
        }

        var environment = ProcFs.TryReadEnvironment(AppPid);
        return environment is not null && environment.Count == Environment.Count && Environment.All(e => environment.TryGetValue(e.Key, out var v) && v == e.Value)
            ? null
            : $"/proc/{AppPid}/environ has {environment?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} variables, not the pod's {Environment.Count}";
    }
}
