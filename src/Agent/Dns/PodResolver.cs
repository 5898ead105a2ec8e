using System.Net;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Agent.Dns;

/// <summary>
/// Resolves names the way the pod's glibc would: address literals, then the container's hosts file, then its name
/// servers with the search list and ndots of its resolv.conf. The agent's own resolver (System.Net.Dns) is never
/// used: it would read the agent's files, not the container's.
/// </summary>
internal sealed partial class PodResolver
{
    public const int DefaultPort = 53;

    private readonly Func<ResolverConfig> _config;
    private readonly Func<HostsFile> _hosts;
    private readonly ILogger _logger;
    private readonly int _port;

    /// <param name="config">Reads the current resolv.conf; called on every resolution, so that edits in the pod apply at once.</param>
    /// <param name="hosts">Reads the current hosts file, likewise.</param>
    /// <param name="logger">Receives debug events about name servers; none by default.</param>
    /// <param name="port">The name servers' port; only tests change it.</param>
    public PodResolver(Func<ResolverConfig> config, Func<HostsFile> hosts, ILogger? logger = null, int port = DefaultPort)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        _config = config;
        _hosts = hosts;
        _logger = logger ?? NullLogger.Instance;
        _port = port;
    }

    /// <summary>
    /// Resolves <paramref name="name"/> to addresses of <paramref name="family"/>. Throws <see cref="RemoteException"/> with
    /// <see cref="ErrorCode.InvalidArgument"/> for a malformed name, <see cref="ErrorCode.NameNotFound"/> when no candidate
    /// name has such addresses, and <see cref="ErrorCode.NameResolutionFailed"/> when the name servers fail or do not answer.
    /// </summary>
    public async Task<DnsAnswer> ResolveAsync(string name, AddressFamilyFilter family, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (FromLiteral(name, family) is { } literal)
        {
            return literal;
        }

        DnsName.Validate(name);
        if (FromHostsFile(name, family) is { } local)
        {
            return local;
        }

        try
        {
            var answer = await SearchAsync(name, family, _config(), ct).ConfigureAwait(false);
            DnsLog.Resolved(_logger, name, family, answer.QueriedName, answer.Addresses.Count);
            return answer;
        }
        catch (RemoteException ex)
        {
            DnsLog.ResolveFailed(_logger, name, family, ex.Message);
            throw;
        }
    }

    private async Task<DnsAnswer> SearchAsync(string name, AddressFamilyFilter family, ResolverConfig config, CancellationToken ct)
    {
        var asIsFirst = SearchList.TriesAsIsFirst(name, config);
        var candidates = SearchList.Candidates(name, config);
        var tried = new List<string>();
        var outcome = LookupStatus.Found;
        for (var i = 0; i < candidates.Count; i++)
        {
            var candidate = candidates[i];
            tried.Add(candidate);
            var (status, answer) = await LookupAsync(candidate, family, config, ct).ConfigureAwait(false);
            if (answer is not null)
            {
                return answer;
            }

            outcome = (LookupStatus)Math.Max((int)outcome, (int)status);
            if (status >= LookupStatus.Refused && !(asIsFirst && tried.Count == 1))
            {
                // As glibc's res_search does: an answer other than NXDOMAIN, NODATA or SERVFAIL for a search domain ends
                // the search list, but the name as it is is still tried (it may be fully qualified). Servers that did
                // not answer at all end it outright.
                var asIs = candidates[^1];
                if (status == LookupStatus.Refused && !asIsFirst && i < candidates.Count - 1 && string.Equals(asIs, name, StringComparison.OrdinalIgnoreCase))
                {
                    tried.Add(asIs);
                    (status, answer) = await LookupAsync(asIs, family, config, ct).ConfigureAwait(false);
                    if (answer is not null)
                    {
                        return answer;
                    }

                    outcome = (LookupStatus)Math.Max((int)outcome, (int)status);
                }

                break;
            }
        }

        throw Failure(name, family, tried, outcome, config);
    }

    private static RemoteException Failure(
        string name, AddressFamilyFilter family, List<string> tried, LookupStatus outcome, ResolverConfig config)
    {
        var candidates = string.Join(", ", tried);
        var servers = string.Join(", ", config.NameServers);
        var types = family switch
        {
            AddressFamilyFilter.IPv4 => "A",
            AddressFamilyFilter.IPv6 => "AAAA",
            _ => "A or AAAA",
        };
        return outcome switch
        {
            LookupStatus.Unreachable => new(ErrorCode.NameResolutionFailed,
                $"Cannot resolve '{name}': name servers {servers} did not answer (tried {candidates})."),
            LookupStatus.Refused => new(ErrorCode.NameResolutionFailed,
                $"Cannot resolve '{name}': name servers {servers} refused the query (tried {candidates})."),
            LookupStatus.ServerFailure => new(ErrorCode.NameResolutionFailed,
                $"Cannot resolve '{name}': name servers {servers} failed with SERVFAIL (tried {candidates})."),
            LookupStatus.NoData => new(ErrorCode.NameNotFound,
                $"'{name}' has no {types} records (tried {candidates})."),
            _ => new(ErrorCode.NameNotFound, $"'{name}' was not found (tried {candidates})."),
        };
    }
}
