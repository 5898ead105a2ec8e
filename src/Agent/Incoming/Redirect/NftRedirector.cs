using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using static ClusterContext.Agent.Incoming.Redirect.NfTables;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>
/// Redirects pod ports with an nftables table of its own, programmed over netlink, that the kernel owns on behalf of
/// this process's netlink socket (NFT_TABLE_F_OWNER, Linux 5.12): when the socket closes, because of
/// <see cref="Dispose"/> or because the process died in any way (SIGKILL, OOM), the kernel deletes the table and
/// every redirect in it, and only this socket may change it meanwhile.
/// <code>
/// table inet clusterctx_&lt;random&gt; {             # flags owner
///   chain prerouting { type nat hook prerouting priority -99; tcp flags syn / syn,ack tcp dport P redirect to :L }
///   chain output     { type nat hook output priority -99; meta mark ExemptMark return;
///                      oifname "lo" tcp flags syn / syn,ack tcp dport P redirect to :L }
/// }
/// </code>
/// Priority −99 (dstnat + 1): NAT takes the first binding a new connection gets, in hook priority order, so a mesh's
/// iptables nat REDIRECT (−100) keeps precedence and this table only sees what the mesh did not take; an unmatched
/// packet still reaches it. The output chain catches the pod's own connections, which leave over <c>lo</c> both to
/// 127.0.0.1 and to the pod's own IP; packets of other interfaces (calls to other services on port P) pass. The
/// agent's own connections to the app carry SO_MARK <see cref="IPortRedirector.ExemptMark"/> and return first.
/// NAT applies to a connection's first packet only, and the rules match only a SYN, so connections open before a
/// redirect stay with the app (even those conntrack first sees mid-stream, when this table is what starts it).
/// Translating the connections a redirect sent to the agent, both ways, needs connection tracking on in the namespace,
/// which the kernel keeps on only while some rule needs it: the verdict-less <c>ct state established</c> keeps it on
/// after the last redirect goes, so those connections live on to their end.
/// </summary>
internal sealed class NftRedirector : IPortRedirector
{
    /// <summary>NF_IP_PRI_NAT_DST (−100) + 1: after iptables' nat table, so a mesh's redirect wins.</summary>
    public const int ChainPriority = -99;

    public const string PreroutingChain = "prerouting";
    public const string OutputChain = "output";

    private const uint NfAccept = 1;

    private readonly NetlinkSocket _socket;
    private readonly ILogger _logger;
    private readonly string _kernelRelease;
    private readonly Lock _lock = new();
    private readonly Dictionary<ushort, InstalledRedirect> _redirects = [];
    private uint _sequence = 1;
    private bool _disposed;

    private NftRedirector(NetlinkSocket socket, string tableName, ILogger logger, string kernelRelease)
    {
        _socket = socket;
        TableName = tableName;
        _logger = logger;
        _kernelRelease = kernelRelease;
    }

    /// <summary>The table's name, unique per agent: agents of one pod share its network namespace, each owns its table.</summary>
    public string TableName { get; }

    /// <summary>
    /// Creates the agent's owner table and its two chains in the calling thread's network namespace.
    /// </summary>
    /// <exception cref="PortRedirectException">The kernel cannot do it; the message names the fix (NET_ADMIN, Linux 5.12+, nf_tables).</exception>
    public static NftRedirector Open(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var kernelRelease = RedirectErrors.KernelRelease();
        var socket = NetlinkSocket.Open(out var errno)
            ?? throw RedirectErrors.ForStep(RedirectStep.Socket, errno, kernelRelease);
        var tableName = "clusterctx_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var redirector = new NftRedirector(socket, tableName, logger, kernelRelease);
        try
        {
            redirector.CreateTable();
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        RedirectLog.TableCreated(logger, tableName, ChainPriority);
        return redirector;
    }

    public void Redirect(ushort podPort, ushort listenerPort)
    {
        ArgumentOutOfRangeException.ThrowIfZero(podPort);
        ArgumentOutOfRangeException.ThrowIfZero(listenerPort);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writer = new NetlinkBatchWriter(_sequence);
            writer.BeginBatch();
            // Replacing is delete + add in one batch: the kernel commits both at once, so no new connection slips
            // between them to the app.
            if (_redirects.TryGetValue(podPort, out var previous))
            {
                DeleteRule(writer, PreroutingChain, previous.PreroutingHandle);
                DeleteRule(writer, OutputChain, previous.OutputHandle);
            }

            AddRule(writer, PreroutingChain, podPort, w =>
            {
                NftExpressions.TcpSynToPort(w, podPort);
                NftExpressions.RedirectToPort(w, listenerPort);
            });
            AddRule(writer, OutputChain, podPort, w =>
            {
                NftExpressions.OutputInterface(w, "lo");
                NftExpressions.TcpSynToPort(w, podPort);
                NftExpressions.RedirectToPort(w, listenerPort);
            });
            writer.EndBatch();
            var replies = Execute(writer);

            ulong? prerouting = null, output = null;
            foreach (var (chain, handle) in replies.EchoedRules)
            {
                if (chain == PreroutingChain)
                {
                    prerouting = handle;
                }
                else if (chain == OutputChain)
                {
                    output = handle;
                }
            }

            if (prerouting is not { } pre || output is not { } outHandle)
            {
                throw new PortRedirectException($"Cannot redirect port {podPort}: the kernel did not echo the new rules' handles.");
            }

            _redirects[podPort] = new InstalledRedirect(listenerPort, pre, outHandle);
            RedirectLog.Redirected(_logger, TableName, podPort, listenerPort);
        }
    }

    public void Remove(ushort podPort)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_redirects.TryGetValue(podPort, out var installed))
            {
                return;
            }

            var writer = new NetlinkBatchWriter(_sequence);
            writer.BeginBatch();
            DeleteRule(writer, PreroutingChain, installed.PreroutingHandle);
            DeleteRule(writer, OutputChain, installed.OutputHandle);
            writer.EndBatch();
            Execute(writer);
            _redirects.Remove(podPort);
            RedirectLog.Removed(_logger, TableName, podPort);
        }
    }

    /// <summary>Closes the netlink socket: the kernel deletes the table, and with it every redirect, at once.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _redirects.Clear();
        }

        _socket.Dispose();
        RedirectLog.TableReleased(_logger, TableName);
    }

    private void CreateTable()
    {
        var writer = new NetlinkBatchWriter(_sequence);
        writer.BeginBatch();

        var table = writer.BeginNftMessage(NftMsgNewTable, NlmFCreate | NlmFExcl, RedirectStep.Table);
        writer.PutString(NftaTableName, TableName);
        writer.PutBigEndian32(NftaTableFlags, NftTableFOwner);
        writer.EndMessage(table);

        AddChain(writer, PreroutingChain, NfInetPreRouting);
        AddChain(writer, OutputChain, NfInetLocalOut);

        // First in the output chain, so it is never preceded by a redirect rule (those are appended after it).
        AddRule(writer, OutputChain, 0, w =>
        {
            NftExpressions.Mark(w, IPortRedirector.ExemptMark);
            NftExpressions.Return(w);
        });

        // Keeps connection tracking on for as long as the table lives, redirects or not: see the expression.
        AddRule(writer, PreroutingChain, 0, NftExpressions.ConntrackEstablished);
        writer.EndBatch();
        Execute(writer);
    }

    private void AddChain(NetlinkBatchWriter writer, string name, uint hook)
    {
        var chain = writer.BeginNftMessage(NftMsgNewChain, NlmFCreate | NlmFExcl, RedirectStep.Chain);
        writer.PutString(NftaChainTable, TableName);
        writer.PutString(NftaChainName, name);
        var hookAttribute = writer.BeginNested(NftaChainHook);
        writer.PutBigEndian32(NftaHookHooknum, hook);
        writer.PutBigEndian32(NftaHookPriority, unchecked((uint)ChainPriority));
        writer.EndNested(hookAttribute);
        writer.PutBigEndian32(NftaChainPolicy, NfAccept);
        writer.PutString(NftaChainType, "nat");
        writer.EndMessage(chain);
    }

    private void AddRule(NetlinkBatchWriter writer, string chain, ushort podPort, Action<NetlinkBatchWriter> expressions)
    {
        // ECHO: the kernel sends the new rule back with the handle it chose, which Remove needs to delete it.
        var rule = writer.BeginNftMessage(NftMsgNewRule, NlmFCreate | NlmFAppend | NlmFEcho, RedirectStep.Rule);
        writer.PutString(NftaRuleTable, TableName);
        writer.PutString(NftaRuleChain, chain);
        var list = writer.BeginNested(NftaRuleExpressions);
        expressions(writer);
        writer.EndNested(list);
        writer.PutBytes(NftaRuleUserdata, RuleComment.Encode(podPort != 0 ? $"clusterctx: port {podPort}"
            : chain == OutputChain ? "clusterctx: the agent's own connections" : "clusterctx: keeps connection tracking on"));
        writer.EndMessage(rule);
    }

    private void DeleteRule(NetlinkBatchWriter writer, string chain, ulong handle)
    {
        var rule = writer.BeginNftMessage(NftMsgDelRule, 0, RedirectStep.Rule);
        writer.PutString(NftaRuleTable, TableName);
        writer.PutString(NftaRuleChain, chain);
        writer.PutBigEndian64(NftaRuleHandle, handle);
        writer.EndMessage(rule);
    }

    /// <summary>Sends the batch and checks that every message was acknowledged; any error aborts the whole batch.</summary>
    private NetlinkReplies Execute(NetlinkBatchWriter writer)
    {
        _sequence = writer.NextSequence;
        var errno = _socket.Send(writer.Written);
        if (errno != 0)
        {
            throw RedirectErrors.ForStep(RedirectStep.Batch, errno, _kernelRelease);
        }

        var replies = new NetlinkReplies();
        errno = NetlinkReplies.Drain(_socket, replies);
        if (errno != 0)
        {
            throw RedirectErrors.ForStep(RedirectStep.Reply, errno, _kernelRelease);
        }

        // Errors about the batch as a whole (no CAP_NET_ADMIN, no nf_tables) answer BATCH_BEGIN.
        if (replies.ErrorsBySequence.TryGetValue(writer.BeginSequence, out var batchError) && batchError != 0)
        {
            throw RedirectErrors.ForStep(RedirectStep.Batch, batchError, _kernelRelease);
        }

        foreach (var (sequence, step) in writer.Acknowledged)
        {
            if (replies.ErrorsBySequence.TryGetValue(sequence, out var error) && error != 0)
            {
                throw RedirectErrors.ForStep(step, error, _kernelRelease);
            }
        }

        foreach (var (sequence, step) in writer.Acknowledged)
        {
            if (!replies.ErrorsBySequence.ContainsKey(sequence))
            {
                throw new PortRedirectException($"Cannot redirect the pod's ports: the kernel did not acknowledge a message ({step}) of the batch.");
            }
        }

        return replies;
    }

    private readonly record struct InstalledRedirect(ushort ListenerPort, ulong PreroutingHandle, ulong OutputHandle);
}
