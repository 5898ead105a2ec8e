namespace ClusterContext.Protocol.Messages;

/// <summary>The type of a file system entry; the numeric values are part of the wire format.</summary>
internal enum FileType : byte
{
    /// <summary>The type could not be determined.</summary>
    Unknown = 0,
    /// <summary>A regular file.</summary>
    File = 1,
    /// <summary>A directory.</summary>
    Directory = 2,
    /// <summary>A symbolic link.</summary>
    Symlink = 3,
    /// <summary>A character device.</summary>
    CharacterDevice = 4,
    /// <summary>A block device.</summary>
    BlockDevice = 5,
    /// <summary>A named pipe.</summary>
    Fifo = 6,
    /// <summary>A Unix domain socket.</summary>
    Socket = 7,
}
