using ClusterContext.Protocol;

namespace ClusterContext.Agent.Files;

/// <summary>Checks a path a client asks for before it reaches the kernel.</summary>
internal static class ContainerPath
{
    /// <summary>
    /// Returns the path relative to the container's root. A path must be absolute; a ".." that would climb above
    /// the root is refused outright (symbolic links are contained by the kernel instead, see <see cref="ContainerFileSystem"/>).
    /// </summary>
    public static string ToRootRelative(string path)
    {
        if (path.Length == 0 || path[0] != '/')
        {
            throw new RemoteException(ErrorCode.InvalidArgument, $"'{path}' is not an absolute path; paths are absolute paths inside the container.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new RemoteException(ErrorCode.InvalidArgument, "A path may not contain NUL characters.");
        }

        var depth = 0;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (--depth < 0)
                {
                    throw new RemoteException(ErrorCode.PathOutsideRoot, $"{path}: '..' leads out of the container's root.");
                }
            }
            else if (part != ".")
            {
                depth++;
            }
        }

        var relative = path.TrimStart('/');
        return relative.Length == 0 ? "." : relative;
    }
}
