namespace ClusterContext.Testing.Sandbox.FileSystem;

/// <summary>Rules for absolute paths inside the app container.</summary>
internal static class ContainerPaths
{
    /// <summary>Directories the root file system itself provides; a pod file directly inside one is mounted alone.</summary>
    public static readonly IReadOnlySet<string> RootDirectories = new HashSet<string>(StringComparer.Ordinal)
    {
        "/", "/etc", "/tmp", "/root", "/var", "/var/run", "/var/run/secrets", "/var/run/secrets/kubernetes.io",
    };

    /// <summary>Directories that come from the host or the kernel, where pod files cannot go.</summary>
    public static readonly IReadOnlyList<string> HostDirectories =
        ["/usr", "/proc", "/dev", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

    public const string ServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>Checks that <paramref name="path"/> is absolute, normalised and somewhere a pod file may live.</summary>
    public static void Validate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var segments = path.Split('/');
        if (path[0] != '/' || path.Length == 1 || segments.Skip(1).Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException($"Pod file path '{path}' must be absolute and normalised (no '.', '..', '//' or trailing '/').", nameof(path));
        }

        var underHost = HostDirectories.FirstOrDefault(d => IsSameOrUnder(path, d));
        if (underHost is not null)
        {
            throw new ArgumentException($"Pod file path '{path}' is under {underHost}, which comes from the host.", nameof(path));
        }

        if (RootDirectories.Contains(path))
        {
            throw new ArgumentException($"Pod file path '{path}' is a directory of the root file system.", nameof(path));
        }
    }

    public static bool IsSameOrUnder(string path, string directory) =>
        path == directory || (path.StartsWith(directory, StringComparison.Ordinal) && path.Length > directory.Length && path[directory.Length] == '/');

    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash == 0 ? "/" : path[..slash];
    }

    /// <summary>Where <paramref name="containerPath"/> is on the host, below <paramref name="rootFs"/>.</summary>
    public static string OnHost(string rootFs, string containerPath) => rootFs + containerPath;
}
