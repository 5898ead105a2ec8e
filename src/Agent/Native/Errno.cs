using ClusterContext.Protocol;

namespace ClusterContext.Agent.Native;

/// <summary>Maps errno values to protocol error codes with a message that names the path.</summary>
internal static class Errno
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOSYS = 38;

    public static RemoteException ToException(int errno, string operation, string path)
    {
        var (code, what) = errno switch
        {
            1 or 13 => (ErrorCode.AccessDenied, "permission denied"),
            ENOENT => (ErrorCode.NotFound, "no such file or directory"),
            3 => (ErrorCode.NotFound, "the target process is gone"),
            18 => (ErrorCode.PathOutsideRoot, "the path leads out of the container's root"),
            20 => (ErrorCode.NotADirectory, "a path component is not a directory"),
            21 => (ErrorCode.IsADirectory, "is a directory"),
            22 => (ErrorCode.InvalidArgument, "invalid argument"),
            36 => (ErrorCode.InvalidArgument, "name too long"),
            40 => (ErrorCode.TooManyLinks, "too many levels of symbolic links"),
            ENOSYS => (ErrorCode.Internal, "the kernel lacks openat2 (Linux 5.6 or later is required)"),
            _ => (ErrorCode.IOError, $"errno {errno}"),
        };
        return new RemoteException(code, $"{operation} {path}: {what}.");
    }
}
