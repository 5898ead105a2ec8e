using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using ClusterContext.Agent.Native;
using ClusterContext.Agent.Target;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Win32.SafeHandles;

namespace ClusterContext.Agent.Files;

/// <summary>
/// The target container's file system, reached through <c>/proc/PID/root</c>. Every path is resolved by the kernel
/// with openat2(RESOLVE_IN_ROOT): "..", absolute paths and symbolic links (absolute or relative) are resolved inside
/// the container's root exactly as the container itself would resolve them, so no path or link can reach the host.
/// </summary>
internal sealed class ContainerFileSystem(TargetProcess target)
{
    private const ulong Resolve = OpenFlags.ResolveInRoot | OpenFlags.ResolveNoMagicLinks;

    public FileStat Stat(string path, bool followSymlinks)
    {
        using var fd = Open(path, OpenFlags.Path | (followSymlinks ? 0 : OpenFlags.NoFollow), "stat");
        return StatOf(fd.Value, path);
    }

    /// <summary>Opens a file for reading; the stat comes from the open handle so it describes exactly these bytes.</summary>
    public (SafeFileHandle Handle, FileStat Stat) OpenRead(string path)
    {
        var fd = Open(path, OpenFlags.ReadOnly, "open");
        try
        {
            var stat = StatOf(fd.Value, path);
            if (stat.Type == FileType.Directory)
            {
                throw new RemoteException(ErrorCode.IsADirectory, $"open {path}: is a directory.");
            }

            return (new SafeFileHandle(fd.Value, ownsHandle: true), stat);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a directory for watching: the descriptor, resolved inside the container's root, is watched through its
    /// /proc/self/fd link, so the watch never follows a path outside the container.
    /// </summary>
    public SafeFileHandle OpenDirectoryForWatch(string path)
    {
        var fd = Open(path, OpenFlags.Path | OpenFlags.Directory, "watch");
        return new SafeFileHandle(fd.Value, ownsHandle: true);
    }

    /// <summary>Replaces the file's content (creating it when missing); returns its metadata afterwards.</summary>
    public FileStat WriteFile(string path, ReadOnlySpan<byte> content)
    {
        var fd = Open(path, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Truncate, "write", mode: 0x1A4 /* 0644 */);
        using var handle = new SafeFileHandle(fd.Value, ownsHandle: true);
        try
        {
            RandomAccess.Write(handle, content, 0);
        }
        catch (IOException ex)
        {
            throw new RemoteException(ErrorCode.IOError, $"write {path}: {ex.Message}");
        }

        return StatOf(fd.Value, path);
    }

    public ReadDirectoryResponse ReadDirectory(string path, int skip, int maxResponseBytes)
    {
        using var fd = Open(path, OpenFlags.ReadOnly | OpenFlags.Directory, "readdir");
        var entries = new List<DirectoryEntry>();
        var buffer = new byte[32 * 1024];
        var statBuffer = new byte[StatxDecoder.BufferSize];
        var index = 0;
        var size = 0;
        while (true)
        {
            var read = LibC.ReadDirectoryEntries(fd.Value, buffer);
            if (read < 0)
            {
                throw Errno.ToException(Marshal.GetLastPInvokeError(), "readdir", path);
            }

            if (read == 0)
            {
                return new ReadDirectoryResponse(entries, HasMore: false);
            }

            for (var offset = 0; offset < read;)
            {
                var record = buffer.AsSpan(offset);
                var length = BinaryPrimitives.ReadUInt16LittleEndian(record[16..]);
                var nameBytes = record[19..length];
                var name = Encoding.UTF8.GetString(nameBytes[..nameBytes.IndexOf((byte)0)]);
                offset += length;
                if (name is "." or ".." || index++ < skip)
                {
                    continue;
                }

                var type = StatxDecoder.TypeFromDirent(record[18]);
                if (type == FileType.Unknown && LibC.StatxAt(fd.Value, name, statBuffer) == 0)
                {
                    type = StatxDecoder.Decode(statBuffer).Type;
                }

                size += name.Length + 8;
                if (size > maxResponseBytes)
                {
                    return new ReadDirectoryResponse(entries, HasMore: true);
                }

                entries.Add(new DirectoryEntry(name, type));
            }
        }
    }

    public string ReadLink(string path)
    {
        using var fd = Open(path, OpenFlags.Path | OpenFlags.NoFollow, "readlink");
        var buffer = new byte[4096];
        var length = LibC.ReadLink(fd.Value, buffer);
        if (length < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == 2 || errno == 22
                ? new RemoteException(ErrorCode.NotASymlink, $"readlink {path}: not a symbolic link.")
                : Errno.ToException(errno, "readlink", path);
        }

        return Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    /// <summary>Reads a small file whole (resolver configuration); null when it does not exist.</summary>
    public byte[]? TryReadSmallFile(string path, int maxBytes)
    {
        try
        {
            var (handle, _) = OpenRead(path);
            using (handle)
            {
                var buffer = new byte[maxBytes];
                var total = 0;
                int read;
                while (total < maxBytes && (read = RandomAccess.Read(handle, buffer.AsSpan(total), total)) > 0)
                {
                    total += read;
                }

                return buffer[..total];
            }
        }
        catch (RemoteException ex) when (ex.Code == ErrorCode.NotFound)
        {
            return null;
        }
    }

    private FileDescriptor Open(string path, long flags, string operation, uint mode = 0)
    {
        var relative = ContainerPath.ToRootRelative(path);
        using var root = new FileDescriptor(LibC.OpenDirectoryPath(target.RootPath));
        if (root.Value < 0)
        {
            throw Errno.ToException(Marshal.GetLastPInvokeError(), operation, $"{path} (container root {target.RootPath})");
        }

        while (true)
        {
            var fd = LibC.Openat2(root.Value, relative, flags | OpenFlags.CloseOnExec, Resolve, mode);
            if (fd >= 0)
            {
                return new FileDescriptor(fd);
            }

            // openat2 fails with EAGAIN when a rename raced the in-root lookup; it is safe to retry.
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (Errno.EAGAIN or Errno.EINTR))
            {
                throw Errno.ToException(errno, operation, path);
            }
        }
    }

    private static FileStat StatOf(int fd, string path)
    {
        Span<byte> buffer = stackalloc byte[StatxDecoder.BufferSize];
        if (LibC.Statx(fd, buffer) != 0)
        {
            throw Errno.ToException(Marshal.GetLastPInvokeError(), "stat", path);
        }

        return StatxDecoder.Decode(buffer);
    }
}
