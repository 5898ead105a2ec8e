namespace ClusterContext.Protocol.Messages;

/// <summary>What <c>statx</c> reports about a file in the container.</summary>
/// <param name="Type">File type.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Mode">Permission bits (the low 12 bits of <c>st_mode</c>).</param>
/// <param name="Uid">Owner user id.</param>
/// <param name="Gid">Owner group id.</param>
/// <param name="Inode">Inode number.</param>
/// <param name="Device">Device id of the file system holding the file.</param>
/// <param name="LinkCount">Number of hard links.</param>
/// <param name="ModifiedUnixNs">Last modification, nanoseconds since the Unix epoch.</param>
/// <param name="ChangedUnixNs">Last status change, nanoseconds since the Unix epoch.</param>
/// <param name="AccessedUnixNs">Last access, nanoseconds since the Unix epoch.</param>
internal sealed record FileStat(
    FileType Type, long Size, uint Mode, uint Uid, uint Gid, ulong Inode, ulong Device, uint LinkCount,
    long ModifiedUnixNs, long ChangedUnixNs, long AccessedUnixNs)
{
    /// <summary>The modification time as a <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset LastWriteTimeUtc => DateTimeOffset.UnixEpoch.AddTicks(ModifiedUnixNs / 100);

    internal static void Write(PayloadWriter writer, FileStat stat)
    {
        writer.WriteByte((byte)stat.Type);
        writer.WriteInt64(stat.Size);
        writer.WriteUInt32(stat.Mode);
        writer.WriteUInt32(stat.Uid);
        writer.WriteUInt32(stat.Gid);
        writer.WriteUInt64(stat.Inode);
        writer.WriteUInt64(stat.Device);
        writer.WriteUInt32(stat.LinkCount);
        writer.WriteInt64(stat.ModifiedUnixNs);
        writer.WriteInt64(stat.ChangedUnixNs);
        writer.WriteInt64(stat.AccessedUnixNs);
    }

    internal static FileStat Read(ref PayloadReader reader) => new(
        ReadFileType(ref reader), reader.ReadInt64(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt32(),
        reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());

    internal static FileType ReadFileType(ref PayloadReader reader)
    {
        var type = reader.ReadByte();
        return type <= (byte)FileType.Socket
            ? (FileType)type
            : throw new ProtocolException(ErrorCode.ProtocolError, $"Malformed message: unknown file type {type}.");
    }
}
