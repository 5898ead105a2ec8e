using System.Buffers.Binary;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Files;

/// <summary>Reads struct statx (the same layout on every Linux architecture).</summary>
internal static class StatxDecoder
{
    public const int BufferSize = 256;

    public static FileStat Decode(ReadOnlySpan<byte> b)
    {
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(b[28..]);
        return new FileStat(
            Type: TypeFromMode(mode),
            Size: BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            Mode: (uint)(mode & 0xfff),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(b[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
            Inode: BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
            Device: ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(b[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(b[140..]),
            LinkCount: BinaryPrimitives.ReadUInt32LittleEndian(b[16..]),
            ModifiedUnixNs: Timestamp(b[112..]),
            ChangedUnixNs: Timestamp(b[96..]),
            AccessedUnixNs: Timestamp(b[64..]));
    }

    public static FileType TypeFromMode(int mode) => (mode & 0xf000) switch
    {
        0x8000 => FileType.File,
        0x4000 => FileType.Directory,
        0xa000 => FileType.Symlink,
        0x2000 => FileType.CharacterDevice,
        0x6000 => FileType.BlockDevice,
        0x1000 => FileType.Fifo,
        0xc000 => FileType.Socket,
        _ => FileType.Unknown,
    };

    public static FileType TypeFromDirent(byte type) => type switch
    {
        8 => FileType.File,
        4 => FileType.Directory,
        10 => FileType.Symlink,
        2 => FileType.CharacterDevice,
        6 => FileType.BlockDevice,
        1 => FileType.Fifo,
        12 => FileType.Socket,
        _ => FileType.Unknown,
    };

    private static long Timestamp(ReadOnlySpan<byte> b) =>
        (BinaryPrimitives.ReadInt64LittleEndian(b) * 1_000_000_000L) + BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
}
