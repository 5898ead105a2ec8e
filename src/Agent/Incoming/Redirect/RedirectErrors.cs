using System.Runtime.InteropServices;

namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>Turns the kernel's errno for a step of the redirector into a message that says what to change.</summary>
internal static class RedirectErrors
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int EPROTONOSUPPORT = 93;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;

    private const string NetAdmin =
        "the agent container needs the NET_ADMIN capability to redirect the pod's ports with nftables (network.incoming needs it; " +
        "the session adds it to the agent container when incoming is on, unless the namespace's Pod Security level refuses it)";

    public static PortRedirectException ForStep(RedirectStep step, int errno, string kernelRelease)
    {
        var message = (step, errno) switch
        {
            (_, EPERM or EACCES) => NetAdmin,
            (RedirectStep.Socket, EAFNOSUPPORT or EPROTONOSUPPORT) =>
                $"the kernel ({kernelRelease}) has no nfnetlink (CONFIG_NETFILTER_NETLINK): network.incoming needs nftables on the node (Linux 5.12+)",
            (RedirectStep.Batch, EOPNOTSUPP) =>
                $"the kernel ({kernelRelease}) has no nf_tables (CONFIG_NF_TABLES, module nf_tables): network.incoming needs nftables on the node (Linux 5.12+)",
            (RedirectStep.Table, EINVAL or EOPNOTSUPP) =>
                $"network.incoming needs Linux 5.12+ (nftables owner tables, NFT_TABLE_F_OWNER), so that the kernel removes the redirect when the agent ends however it ends; " +
                $"this node runs {kernelRelease}",
            (RedirectStep.Chain, ENOENT or EOPNOTSUPP) =>
                $"the kernel ({kernelRelease}) has no nftables NAT for inet tables (CONFIG_NFT_NAT, module nft_chain_nat): network.incoming needs it",
            (RedirectStep.Rule, ENOENT or EOPNOTSUPP) =>
                $"the kernel ({kernelRelease}) lacks an nftables expression the redirect uses (CONFIG_NFT_REDIR, module nft_redir): network.incoming needs it",
            _ => $"{Describe(step)} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})",
        };
        return new PortRedirectException($"Cannot redirect the pod's ports: {message}.", errno);
    }

    /// <summary>The running kernel's release (uname -r), for messages; "an unknown kernel" if it cannot be read.</summary>
    public static string KernelRelease()
    {
        try
        {
            return "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "an unknown kernel";
        }
    }

    private static string Describe(RedirectStep step) => step switch
    {
        RedirectStep.Socket => "opening a netlink socket to nf_tables",
        RedirectStep.Batch => "sending an nftables batch",
        RedirectStep.Table => "creating the agent's nftables table",
        RedirectStep.Chain => "creating the agent's nat chains",
        RedirectStep.Rule => "changing a redirect rule",
        _ => "reading the kernel's answer",
    };
}
