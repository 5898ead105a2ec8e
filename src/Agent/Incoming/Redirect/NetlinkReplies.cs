using System.Buffers.Binary;
using System.Text;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// What the kernel answered to one batch: an NLMSG_ERROR per message that asked for an ACK (error 0 = done), errors
/// about the batch itself, and the rules it echoed back (NLM_F_ECHO) with the handles it gave them.
/// </summary>
internal sealed class NetlinkReplies
{
    private const int NlmsghdrSize = 16;
    private const int NfgenmsgSize = 4;

    public Dictionary<uint, int> ErrorsBySequence { get; } = [];

    public List<(string Chain, ulong Handle)> EchoedRules { get; } = [];

    /// <summary>Reads every reply queued on <paramref name="socket"/>; returns 0, or the errno of a failed recv.</summary>
    public static int Drain(NetlinkSocket socket, NetlinkReplies replies)
    {
        // Netlink replies to a send are queued whole; 64 KiB is more than any reply to the redirector's batches.
        var buffer = new byte[65536];
        while (true)
        {
            var received = socket.ReceiveNow(buffer, out var errno);
            if (received < 0)
            {
                return errno;
            }

            if (received == 0)
            {
                return 0;
            }

            replies.Parse(buffer.AsSpan(0, received));
        }
    }

    public void Parse(ReadOnlySpan<byte> datagram)
    {
        while (datagram.Length >= NlmsghdrSize)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < NlmsghdrSize || length > datagram.Length)
            {
                return;
            }

            var type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            var message = datagram[NlmsghdrSize..length];
            if (type == NfTables.NlmsgError && message.Length >= 4 + NlmsghdrSize)
            {
                // struct nlmsgerr: int error (negative errno, 0 for an ACK), then the header of the message it answers.
                var error = BinaryPrimitives.ReadInt32LittleEndian(message);
                var sequence = BinaryPrimitives.ReadUInt32LittleEndian(message[(4 + 8)..]);
                ErrorsBySequence[sequence] = -error;
            }
            else if (type == NfTables.MessageType(NfTables.NftMsgNewRule) && message.Length >= NfgenmsgSize)
            {
                ParseRule(message[NfgenmsgSize..]);
            }

            var aligned = (length + 3) & ~3;
            datagram = aligned >= datagram.Length ? [] : datagram[aligned..];
        }
    }

    private void ParseRule(ReadOnlySpan<byte> attributes)
    {
        string? chain = null;
        ulong? handle = null;
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3fff);
            if (length < 4 || length > attributes.Length)
            {
                break;
            }

            var payload = attributes[4..length];
            if (type == NfTables.NftaRuleChain)
            {
                chain = Encoding.UTF8.GetString(payload.TrimEnd((byte)0));
            }
            else if (type == NfTables.NftaRuleHandle && payload.Length == 8)
            {
                handle = BinaryPrimitives.ReadUInt64BigEndian(payload);
            }

            var aligned = (length + 3) & ~3;
            attributes = aligned >= attributes.Length ? [] : attributes[aligned..];
        }

        if (chain is not null && handle is { } value)
        {
            EchoedRules.Add((chain, value));
        }
    }
}
