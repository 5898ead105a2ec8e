using System.Buffers.Binary;
using System.Text;
using static ClusterContext.Agent.Incoming.Redirect.NfTables;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// Builds one nfnetlink batch: BATCH_BEGIN, nftables messages, BATCH_END, sent as a single datagram so the kernel
/// applies it atomically (all or nothing). Lengths are patched in when a message or nested attribute ends, since
/// netlink puts them in front of what they measure. Everything is padded to 4 bytes (NLMSG_ALIGN, NLA_ALIGN).
/// </summary>
internal sealed class NetlinkBatchWriter
{
    private const int NlmsghdrSize = 16;
    private const int NfgenmsgSize = 4;
    private const int NlattrSize = 4;

    private byte[] _buffer = new byte[1024];
    private int _length;
    private uint _nextSequence;
    private readonly List<(uint Sequence, RedirectStep Step)> _acknowledged = [];

    public NetlinkBatchWriter(uint firstSequence) => _nextSequence = firstSequence;

    /// <summary>The sequence numbers of the messages that asked for an acknowledgement, and the step each one is part of.</summary>
    public IReadOnlyList<(uint Sequence, RedirectStep Step)> Acknowledged => _acknowledged;

    /// <summary>The sequence number of BATCH_BEGIN: errors about the batch as a whole (EPERM, no nf_tables) carry it.</summary>
    public uint BeginSequence { get; private set; }

    public uint NextSequence => _nextSequence;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void BeginBatch()
    {
        BeginSequence = _nextSequence;
        var start = BeginMessage(NfnlMsgBatchBegin, NlmFRequest, 0);
        EndMessage(start);
    }

    public void EndBatch() => EndMessage(BeginMessage(NfnlMsgBatchEnd, NlmFRequest, 0));

    /// <summary>Starts an nftables message that asks for an ACK; returns where it starts, for <see cref="EndMessage"/>.</summary>
    public int BeginNftMessage(ushort nftMessage, ushort flags, RedirectStep step)
    {
        _acknowledged.Add((_nextSequence, step));
        return BeginMessage(MessageType(nftMessage), (ushort)(NlmFRequest | NlmFAck | flags), NfprotoInet);
    }

    public void EndMessage(int start) => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(start), (uint)(_length - start));

    public int BeginNested(ushort type)
    {
        var start = _length;
        WriteAttributeHeader((ushort)(type | NlaFNested), 0);
        return start;
    }

    public void EndNested(int start) => BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), (ushort)(_length - start));

    /// <summary>A NUL-terminated string, as the kernel's NLA_STRING policies for names expect (nla_strcmp, nla_strscpy).</summary>
    public void PutString(ushort type, string value)
    {
        var size = Encoding.UTF8.GetByteCount(value) + 1;
        var payload = Reserve(type, size);
        Encoding.UTF8.GetBytes(value, payload);
        payload[^1] = 0;
    }

    /// <summary>Numbers in nf_tables attributes are big-endian (NLA_BE32 / NLA_BE64, read with ntohl).</summary>
    public void PutBigEndian32(ushort type, uint value) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(type, 4), value);

    public void PutBigEndian64(ushort type, ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Reserve(type, 8), value);

    public void PutBytes(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(Reserve(type, value.Length));

    private int BeginMessage(ushort type, ushort flags, byte family)
    {
        Align();
        var start = _length;
        var header = Grow(NlmsghdrSize + NfgenmsgSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0); // nlmsg_len, patched by EndMessage
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], _nextSequence++);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // nlmsg_pid: 0 = to the kernel
        // struct nfgenmsg: family, version NFNETLINK_V0, res_id (big-endian): the subsystem for batch framing, else 0.
        header[16] = family;
        header[17] = 0;
        var resourceId = type is NfnlMsgBatchBegin or NfnlMsgBatchEnd ? NfnlSubsysNftables : (ushort)0;
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], resourceId);
        return start;
    }

    private Span<byte> Reserve(ushort type, int size)
    {
        Align();
        WriteAttributeHeader(type, (ushort)(NlattrSize + size));
        var payload = Grow(size);
        Align();
        return payload;
    }

    private void WriteAttributeHeader(ushort type, ushort length)
    {
        var header = Grow(NlattrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header, length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
    }

    private void Align()
    {
        var padding = (4 - (_length & 3)) & 3;
        Grow(padding).Clear();
    }

    private Span<byte> Grow(int size)
    {
        if (_length + size > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + size));
        }

        var span = _buffer.AsSpan(_length, size);
        span.Clear();
        _length += size;
        return span;
    }
}
