namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// The numbers of the nf_tables netlink interface the redirector uses, from the kernel's uapi headers
/// (linux/netlink.h, linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h, linux/netfilter.h). They are kernel ABI:
/// they never change once released, so they are written out here rather than read from anywhere at run time.
/// </summary>
internal static class NfTables
{
    // Netlink socket and message header (linux/netlink.h).
    public const int AfNetlink = 16;
    public const int NetlinkNetfilter = 12;
    public const ushort NlmFRequest = 0x1;
    public const ushort NlmFAck = 0x4;
    public const ushort NlmFEcho = 0x8;
    public const ushort NlmFExcl = 0x200;
    public const ushort NlmFCreate = 0x400;
    public const ushort NlmFAppend = 0x800;
    public const ushort NlmsgError = 2;
    public const ushort NlmsgDone = 3;
    public const ushort NlaFNested = 0x8000;

    // nfnetlink (linux/netfilter/nfnetlink.h): a batch is framed by BEGIN/END, whose res_id names the subsystem.
    public const ushort NfnlMsgBatchBegin = 0x10;
    public const ushort NfnlMsgBatchEnd = 0x11;
    public const ushort NfnlSubsysNftables = 10;

    // Protocol families (linux/netfilter.h): inet is one table for IPv4 and IPv6 (nat in inet needs Linux 5.2).
    public const byte NfprotoInet = 1;

    // Hooks (linux/netfilter.h).
    public const uint NfInetPreRouting = 0;
    public const uint NfInetLocalOut = 3;

    // Message types of the nftables subsystem, sent as (NfnlSubsysNftables << 8) | type.
    public const ushort NftMsgNewTable = 0;
    public const ushort NftMsgNewChain = 3;
    public const ushort NftMsgNewRule = 6;
    public const ushort NftMsgDelRule = 8;

    public static ushort MessageType(ushort nftMessage) => (ushort)((NfnlSubsysNftables << 8) | nftMessage);

    // Table (enum nft_table_attributes, nft_table_flags). OWNER: Linux 5.12, commit 6001a930ce03.
    public const ushort NftaTableName = 1;
    public const ushort NftaTableFlags = 2;
    public const uint NftTableFOwner = 0x2;

    // Chain (enum nft_chain_attributes, nft_hook_attributes).
    public const ushort NftaChainTable = 1;
    public const ushort NftaChainName = 3;
    public const ushort NftaChainHook = 4;
    public const ushort NftaChainPolicy = 5;
    public const ushort NftaChainType = 7;
    public const ushort NftaHookHooknum = 1;
    public const ushort NftaHookPriority = 2;

    // Rule (enum nft_rule_attributes); expressions are a list of NFTA_LIST_ELEM, each a name and its data.
    public const ushort NftaRuleTable = 1;
    public const ushort NftaRuleChain = 2;
    public const ushort NftaRuleHandle = 3;
    public const ushort NftaRuleExpressions = 4;
    public const ushort NftaRuleUserdata = 7;
    public const ushort NftaListElem = 1;
    public const ushort NftaExprName = 1;
    public const ushort NftaExprData = 2;

    // Registers: 0 holds the verdict; 1 is the first 16-byte data register (what nft calls reg 1).
    public const uint NftRegVerdict = 0;
    public const uint NftReg1 = 1;

    // meta (enum nft_meta_attributes, nft_meta_keys).
    public const ushort NftaMetaDreg = 1;
    public const ushort NftaMetaKey = 2;
    public const uint NftMetaMark = 3;
    public const uint NftMetaOifname = 7;
    public const uint NftMetaL4proto = 16;

    // cmp (enum nft_cmp_attributes, nft_cmp_ops).
    public const ushort NftaCmpSreg = 1;
    public const ushort NftaCmpOp = 2;
    public const ushort NftaCmpData = 3;
    public const uint NftCmpEq = 0;
    public const uint NftCmpNeq = 1;

    // ct (enum nft_ct_attributes, nft_ct_keys); the state is a bit per ctinfo: NF_CT_STATE_BIT(IP_CT_ESTABLISHED).
    public const ushort NftaCtDreg = 1;
    public const ushort NftaCtKey = 2;
    public const uint NftCtState = 0;
    public const uint NfCtStateEstablished = 0x02;

    // payload (enum nft_payload_attributes, nft_payload_bases).
    public const ushort NftaPayloadDreg = 1;
    public const ushort NftaPayloadBase = 2;
    public const ushort NftaPayloadOffset = 3;
    public const ushort NftaPayloadLen = 4;
    public const uint NftPayloadTransportHeader = 2;

    // bitwise (enum nft_bitwise_attributes): without NFTA_BITWISE_OP it is dreg = (sreg & mask) ^ xor.
    public const ushort NftaBitwiseSreg = 1;
    public const ushort NftaBitwiseDreg = 2;
    public const ushort NftaBitwiseLen = 3;
    public const ushort NftaBitwiseMask = 4;
    public const ushort NftaBitwiseXor = 5;

    // TCP header flags (byte 13).
    public const byte TcpFlagSyn = 0x02;
    public const byte TcpFlagAck = 0x10;

    // immediate (enum nft_immediate_attributes) and its data (enum nft_data_attributes, nft_verdict_attributes).
    public const ushort NftaImmediateDreg = 1;
    public const ushort NftaImmediateData = 2;
    public const ushort NftaDataValue = 1;
    public const ushort NftaDataVerdict = 2;
    public const ushort NftaVerdictCode = 1;

    /// <summary>NFT_RETURN: leave the chain; in a base chain that applies its policy (accept), so no redirect.</summary>
    public const int NftReturn = -5;

    // redir (enum nft_redir_attributes).
    public const ushort NftaRedirRegProtoMin = 1;
    public const ushort NftaRedirFlags = 3;

    /// <summary>NF_NAT_RANGE_PROTO_SPECIFIED (linux/netfilter/nf_nat.h): the redirect names a port, not only an address.</summary>
    public const uint NfNatRangeProtoSpecified = 0x2;

    /// <summary>IPPROTO_TCP, as meta l4proto loads it (one byte).</summary>
    public const byte IpprotoTcp = 6;

    /// <summary>IFNAMSIZ: meta oifname loads the interface name NUL-padded to 16 bytes, and cmp compares all 16.</summary>
    public const int IfNameSize = 16;
}
