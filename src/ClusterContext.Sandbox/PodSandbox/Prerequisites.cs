namespace ClusterContext.Testing.Sandbox;

/// <summary>
/// Checks up front for root and the host programs, so a machine that lacks them fails with one actionable message
/// instead of an obscure error from the middle of a start (and tests fail rather than silently skip).
/// </summary>
internal static class Prerequisites
{
    public const string InstallCommand = "apt-get install -y iproute2 dnsmasq-base redis-server util-linux (or ./build.sh test, which installs them)";

    private static readonly string[] s_standardDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    public static SandboxTools Require()
    {
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        var directories = path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(s_standardDirectories).Distinct().ToArray();
        return Require(directories, OperatingSystem.IsLinux() && System.Environment.IsPrivilegedProcess);
    }

    internal static SandboxTools Require(IReadOnlyList<string> directories, bool isRoot)
    {
        var missing = new List<string>();
        string Need(string program, string package)
        {
            var found = directories.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
            if (found is null)
            {
                missing.Add($"{program} (Debian package {package})");
            }

            return found ?? program;
        }

        var tools = new SandboxTools(
            Ip: Need("ip", "iproute2"),
            Nsenter: Need("nsenter", "util-linux"),
            Unshare: Need("unshare", "util-linux"),
            Mount: Need("mount", "mount"),
            Chroot: Need("chroot", "coreutils"),
            Env: Need("env", "coreutils"),
            Shell: Need("sh", "dash"),
            Setsid: Need("setsid", "util-linux"),
            Dnsmasq: Need("dnsmasq", "dnsmasq-base"),
            RedisServer: Need("redis-server", "redis-server"));

        var problems = new List<string>();
        if (!isRoot)
        {
            problems.Add("it must run as root on Linux (it creates network namespaces, veth pairs, routes and mounts)");
        }

        if (missing.Count > 0)
        {
            problems.Add($"these programs are missing: {string.Join(", ", missing)}");
        }

        return problems.Count == 0
            ? tools
            : throw new PodSandboxException(
                $"The pod sandbox cannot run here: {string.Join("; ", problems)}. "
                + $"Run the tests as root on Debian/Ubuntu after: {InstallCommand}");
    }
}
