using ClusterContext.Agent.Incoming.Redirect;

namespace ClusterContext.Agent.Tests.Incoming.Redirect;

/// <summary>
/// The errno the kernel gives for each missing requirement, as the kernel's sources return it, turned into the fix.
/// (No kernel older than 5.12 or without nf_tables is at hand, so these answers are fed in directly.)
/// </summary>
public sealed class RedirectErrorsTests
{
    [Theory]
    [InlineData(RedirectErrors.EINVAL)] // 5.x before the owner flag: flags other than DORMANT were EINVAL
    [InlineData(RedirectErrors.EOPNOTSUPP)] // later kernels answer unknown table flags with EOPNOTSUPP
    public void A_table_refused_for_its_owner_flag_names_Linux_5_12(int errno)
    {
        var e = RedirectErrors.ForStep(RedirectStep.Table, errno, "Linux 5.10.0");
        Assert.Contains("needs Linux 5.12+ (nftables owner tables, NFT_TABLE_F_OWNER)", e.Message, StringComparison.Ordinal);
        Assert.Contains("this node runs Linux 5.10.0", e.Message, StringComparison.Ordinal);
        Assert.Equal(errno, e.Errno);
    }

    [Theory]
    [InlineData((int)RedirectStep.Batch)] // nfnetlink refuses the whole batch without CAP_NET_ADMIN
    [InlineData((int)RedirectStep.Table)]
    [InlineData((int)RedirectStep.Rule)]
    public void Permission_denied_at_any_step_names_NET_ADMIN(int step)
    {
        var e = RedirectErrors.ForStep((RedirectStep)step, RedirectErrors.EPERM, "Linux 6.1");
        Assert.Contains("needs the NET_ADMIN capability", e.Message, StringComparison.Ordinal);
        Assert.Contains("network.incoming needs it", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_without_nf_tables_says_so()
    {
        Assert.Contains("has no nf_tables", RedirectErrors.ForStep(RedirectStep.Batch, RedirectErrors.EOPNOTSUPP, "Linux 6.1").Message, StringComparison.Ordinal);
        Assert.Contains("has no nfnetlink", RedirectErrors.ForStep(RedirectStep.Socket, RedirectErrors.EPROTONOSUPPORT, "Linux 6.1").Message, StringComparison.Ordinal);
        Assert.Contains("no nftables NAT", RedirectErrors.ForStep(RedirectStep.Chain, RedirectErrors.ENOENT, "Linux 6.1").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_errors_say_the_step_and_the_errno()
    {
        var e = RedirectErrors.ForStep(RedirectStep.Rule, 16, "Linux 6.1");
        Assert.Contains("changing a redirect rule failed", e.Message, StringComparison.Ordinal);
        Assert.Contains("errno 16", e.Message, StringComparison.Ordinal);
    }
}
