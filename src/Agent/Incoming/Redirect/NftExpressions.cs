using System.Buffers.Binary;
using static ClusterContext.Agent.Incoming.Redirect.NfTables;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// The expressions of the redirector's rules, each a NFTA_LIST_ELEM holding the expression's name and its nested
/// data, in the order the kernel evaluates them. They are the same low-level steps nft compiles its rules to, so
/// <c>nft list ruleset</c> shows them in nft's own words (checked by the tests).
/// </summary>
internal static class NftExpressions
{
    /// <summary>
    /// <c>tcp flags syn / syn,ack tcp dport P</c>: a connection's opening SYN to port P. Matching the SYN and not
    /// just the port matters when this table brings conntrack to a namespace that had none: the kernel then picks up
    /// connections already open mid-stream as new ones, and redirecting those would reset them. This way they get
    /// no redirect (a null NAT binding) and stay with the app, as the contract promises.
    /// </summary>
    public static void TcpSynToPort(NetlinkBatchWriter writer, ushort port)
    {
        Meta(writer, NftMetaL4proto);
        Compare(writer, [IpprotoTcp]);

        // struct tcphdr: the flags byte is at offset 13 (CWR ECE URG ACK PSH RST SYN FIN); SYN set and ACK clear.
        Payload(writer, offset: 13, length: 1);
        var bitwise = Begin(writer, "bitwise");
        writer.PutBigEndian32(NftaBitwiseSreg, NftReg1);
        writer.PutBigEndian32(NftaBitwiseDreg, NftReg1);
        writer.PutBigEndian32(NftaBitwiseLen, 1);
        PutValue(writer, NftaBitwiseMask, [TcpFlagSyn | TcpFlagAck]);
        PutValue(writer, NftaBitwiseXor, [0]);
        End(writer, bitwise);
        Compare(writer, [TcpFlagSyn]);

        // The destination port: offset 2, 2 bytes in network order.
        Payload(writer, offset: 2, length: 2);
        Span<byte> networkOrder = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(networkOrder, port);
        Compare(writer, networkOrder);
    }

    /// <summary><c>oifname "lo"</c>: the name is compared NUL-padded to IFNAMSIZ, like nft does for an exact name.</summary>
    public static void OutputInterface(NetlinkBatchWriter writer, string name)
    {
        Meta(writer, NftMetaOifname);
        Span<byte> padded = stackalloc byte[IfNameSize];
        padded.Clear();
        System.Text.Encoding.ASCII.GetBytes(name, padded);
        Compare(writer, padded);
    }

    /// <summary><c>meta mark M</c>: skb->mark, which a socket's SO_MARK sets, loaded as a u32 in host byte order.</summary>
    public static void Mark(NetlinkBatchWriter writer, uint mark)
    {
        Meta(writer, NftMetaMark);
        Span<byte> hostOrder = stackalloc byte[4];
        BitConverter.TryWriteBytes(hostOrder, mark);
        Compare(writer, hostOrder);
    }

    /// <summary>
    /// <c>ct state established</c>, with no verdict: it changes nothing a packet meets, but a rule with a ct
    /// expression holds the namespace's connection tracking on. The redirect rules hold it too, and when the last of
    /// them went (a subscription's end) the kernel would stop tracking, and stop translating, the connections they had
    /// sent to the agent: the agent's answers would leave from its listener's port, which the clients drop.
    /// </summary>
    public static void ConntrackEstablished(NetlinkBatchWriter writer)
    {
        var ct = Begin(writer, "ct");
        writer.PutBigEndian32(NftaCtKey, NftCtState);
        writer.PutBigEndian32(NftaCtDreg, NftReg1);
        End(writer, ct);

        Span<byte> hostOrder = stackalloc byte[4];
        BitConverter.TryWriteBytes(hostOrder, NfCtStateEstablished);
        var bitwise = Begin(writer, "bitwise");
        writer.PutBigEndian32(NftaBitwiseSreg, NftReg1);
        writer.PutBigEndian32(NftaBitwiseDreg, NftReg1);
        writer.PutBigEndian32(NftaBitwiseLen, 4);
        PutValue(writer, NftaBitwiseMask, hostOrder);
        PutValue(writer, NftaBitwiseXor, [0, 0, 0, 0]);
        End(writer, bitwise);

        var cmp = Begin(writer, "cmp");
        writer.PutBigEndian32(NftaCmpSreg, NftReg1);
        writer.PutBigEndian32(NftaCmpOp, NftCmpNeq);
        PutValue(writer, NftaCmpData, [0, 0, 0, 0]);
        End(writer, cmp);
    }

    /// <summary><c>return</c>: an immediate verdict into the verdict register.</summary>
    public static void Return(NetlinkBatchWriter writer)
    {
        var expression = Begin(writer, "immediate");
        writer.PutBigEndian32(NftaImmediateDreg, NftRegVerdict);
        var data = writer.BeginNested(NftaImmediateData);
        var verdict = writer.BeginNested(NftaDataVerdict);
        writer.PutBigEndian32(NftaVerdictCode, unchecked((uint)NftReturn));
        writer.EndNested(verdict);
        writer.EndNested(data);
        End(writer, expression);
    }

    /// <summary>
    /// <c>redirect to :L</c>: the port goes into a register first (redir reads it from there, 2 bytes in network
    /// order), then redir rewrites the destination to the primary address of the incoming interface (prerouting) or
    /// to loopback (output) and that port. Without a max register the range is the one port.
    /// </summary>
    public static void RedirectToPort(NetlinkBatchWriter writer, ushort port)
    {
        var immediate = Begin(writer, "immediate");
        writer.PutBigEndian32(NftaImmediateDreg, NftReg1);
        var data = writer.BeginNested(NftaImmediateData);
        Span<byte> networkOrder = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(networkOrder, port);
        writer.PutBytes(NftaDataValue, networkOrder);
        writer.EndNested(data);
        End(writer, immediate);

        var redir = Begin(writer, "redir");
        writer.PutBigEndian32(NftaRedirRegProtoMin, NftReg1);
        // The kernel infers "port given" from the register, but a FLAGS attribute, when present, replaces what it
        // inferred; nft sends it explicitly, and so do we, so the rule is byte for byte what nft would make.
        writer.PutBigEndian32(NftaRedirFlags, NfNatRangeProtoSpecified);
        End(writer, redir);
    }

    private static void Payload(NetlinkBatchWriter writer, uint offset, uint length)
    {
        var expression = Begin(writer, "payload");
        writer.PutBigEndian32(NftaPayloadDreg, NftReg1);
        writer.PutBigEndian32(NftaPayloadBase, NftPayloadTransportHeader);
        writer.PutBigEndian32(NftaPayloadOffset, offset);
        writer.PutBigEndian32(NftaPayloadLen, length);
        End(writer, expression);
    }

    private static void PutValue(NetlinkBatchWriter writer, ushort type, ReadOnlySpan<byte> value)
    {
        var data = writer.BeginNested(type);
        writer.PutBytes(NftaDataValue, value);
        writer.EndNested(data);
    }

    private static void Meta(NetlinkBatchWriter writer, uint key)
    {
        var expression = Begin(writer, "meta");
        writer.PutBigEndian32(NftaMetaKey, key);
        writer.PutBigEndian32(NftaMetaDreg, NftReg1);
        End(writer, expression);
    }

    private static void Compare(NetlinkBatchWriter writer, ReadOnlySpan<byte> value)
    {
        var expression = Begin(writer, "cmp");
        writer.PutBigEndian32(NftaCmpSreg, NftReg1);
        writer.PutBigEndian32(NftaCmpOp, NftCmpEq);
        PutValue(writer, NftaCmpData, value);
        End(writer, expression);
    }

    private static (int Element, int Data) Begin(NetlinkBatchWriter writer, string name)
    {
        var element = writer.BeginNested(NftaListElem);
        writer.PutString(NftaExprName, name);
        return (element, writer.BeginNested(NftaExprData));
    }

    private static void End(NetlinkBatchWriter writer, (int Element, int Data) expression)
    {
        writer.EndNested(expression.Data);
        writer.EndNested(expression.Element);
    }
}
