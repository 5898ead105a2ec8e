using System.Net;

namespace ClusterContext.Testing.Sandbox.FileSystem;

/// <summary>
/// Builds the app container's root: the host's <c>/usr</c> (read-only) for programs, and the files a container
/// runtime and kubelet would put there for this pod.
/// </summary>
internal static class RootFileSystem
{
    // On merged-/usr systems these are symlinks into usr; copying the links keeps programs' interpreter paths valid.
    private static readonly string[] s_usrAliases = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];
    private static readonly string[] s_devices = ["null", "zero", "full", "random", "urandom", "tty"];
    private static readonly string[] s_directories = ["usr", "proc", "dev", "tmp", "etc", "root", "var/run/secrets/kubernetes.io"];

    /// <summary>Creates the root file system and returns the mounts it needs, in mount order.</summary>
    public static async Task<IReadOnlyList<BindMount>> BuildAsync(
        string rootFs, string podNamespace, string podName, IPAddress podIP, IPAddress dnsServerIP, CancellationToken cancellationToken)
    {
        var mounts = new List<BindMount> { new("/usr", Path.Combine(rootFs, "usr"), ReadOnly: true) };
        foreach (var directory in s_directories)
        {
            Directory.CreateDirectory(Path.Combine(rootFs, directory));
        }

        if (!OperatingSystem.IsWindows()) // always true here (Prerequisites checked for Linux); the analyzer cannot know
        {
            File.SetUnixFileMode(Path.Combine(rootFs, "tmp"), (UnixFileMode)Convert.ToInt32("1777", 8));
        }
        foreach (var alias in s_usrAliases)
        {
            var onHost = new DirectoryInfo("/" + alias);
            var inRoot = Path.Combine(rootFs, alias);
            if (onHost.LinkTarget is { } target)
            {
                File.CreateSymbolicLink(inRoot, target);
            }
            else if (onHost.Exists)
            {
                Directory.CreateDirectory(inRoot);
                mounts.Add(new BindMount(onHost.FullName, inRoot, ReadOnly: true));
            }
        }

        foreach (var device in s_devices)
        {
            var inRoot = Path.Combine(rootFs, "dev", device);
            await File.WriteAllBytesAsync(inRoot, [], cancellationToken).ConfigureAwait(false);
            mounts.Add(new BindMount("/dev/" + device, inRoot, ReadOnly: false));
        }

        // The terminals an exec with a TTY gets (its slave is /dev/pts/N, which tty(1) and shells look up there).
        var pts = Path.Combine(rootFs, "dev", "pts");
        Directory.CreateDirectory(pts);
        mounts.Add(new BindMount("/dev/pts", pts, ReadOnly: false));

        var etc = Path.Combine(rootFs, "etc");
        await File.WriteAllTextAsync(Path.Combine(etc, "hostname"), podName + "\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(etc, "hosts"), Hosts(podName, podIP), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(etc, "resolv.conf"), ResolvConf(podNamespace, dnsServerIP), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(etc, "nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(
            Path.Combine(etc, "passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(etc, "group"), "root:x:0:\nnogroup:x:65534:\n", cancellationToken).ConfigureAwait(false);
        return mounts;
    }

    private static string Hosts(string podName, IPAddress podIP) => $"""
        # Kubernetes-managed hosts file.
        127.0.0.1	localhost
        ::1	localhost ip6-localhost ip6-loopback
        fe00::0	ip6-localnet
        fe00::0	ip6-mcastprefix
        fe00::1	ip6-allnodes
        fe00::2	ip6-allrouters
        {podIP}	{podName}

        """;

    private static string ResolvConf(string podNamespace, IPAddress dnsServerIP) => $"""
        search {podNamespace}.svc.cluster.local svc.cluster.local cluster.local
        nameserver {dnsServerIP}
        options ndots:5

        """;
}
