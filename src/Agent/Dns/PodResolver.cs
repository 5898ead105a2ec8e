using System.Net;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Agent.Dns;

/// <summary>
/// Resolves names the way the pod's glibc getaddrinfo does: address literals, then the container's hosts file, then its
/// name servers with the search list, ndots and options of its resolv.conf (glibc 2.36's res_search, res_send and
/// nss_dns, checked against the container's own glibc by the differential tests). The agent's own resolver (System.Net.Dns) is never
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

        // glibc's DNS backend takes only host names (letters, digits, '-' and '_'); others are not found without a query.
        if (!DnsName.IsHostName(name))
        {
            throw new RemoteException(ErrorCode.NameNotFound, $"'{name}' was not found: it is not a host name DNS is asked for.");
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

    /// <summary>
    /// glibc's <c>res_search</c>. A candidate answered with records settles the lookup, with addresses or without.
    /// NXDOMAIN, no data and SERVFAIL go on to the next search domain; anything else (REFUSED, timeouts) ends the
    /// search list, but the name is still tried as it is; no server reachable at all ends everything at once.
    /// </summary>
    private async Task<DnsAnswer> SearchAsync(string name, AddressFamilyFilter family, ResolverConfig config, CancellationToken ct)
    {
        var candidates = SearchList.Candidates(name, config);
        var asIsFirst = SearchList.TriesAsIsFirst(name, config);
        var asIsLast = SearchList.TriesAsIsLast(name, config, candidates);
        var tried = new List<string>();
        HostError? asIsError = null;
        var gotNoData = false;
        var gotServerFailure = false;
        CandidateResult? last = null;
        for (var i = 0; i < candidates.Count; i++)
        {
            var result = await LookupAsync(candidates[i], family, config, ct).ConfigureAwait(false);
            tried.Add(candidates[i]);
            last = result;
            if (result.Answered)
            {
                return result.Answer ?? throw NotFound(name, family, tried, "it has no addresses");
            }

            if (i == 0 && asIsFirst)
            {
                if (name.EndsWith('.'))
                {
                    break;
                }

                asIsError = result.Error;
                continue;
            }

            if (asIsLast && i == candidates.Count - 1)
            {
                break;
            }

            if (result.ConnectionRefused)
            {
                throw Failure(name, family, tried, HostError.TryAgain, result, config);
            }

            gotNoData |= result.Error == HostError.NoData;
            var goesOn = result.Error is HostError.NoData or HostError.HostNotFound
                || (result.Error == HostError.TryAgain && result.FirstBufferCode == DnsResponseCode.ServerFailure);
            gotServerFailure |= result.Error == HostError.TryAgain && goesOn;
            if (!goesOn)
            {
                // Past the search domains to the name as it is, if it is still to be tried.
                i = asIsLast ? candidates.Count - 2 : candidates.Count;
            }
        }

        // As glibc reports it: the error of the first try as it is, else "no data" if any candidate had none, else
        // SERVFAIL if any had it, else the last candidate's.
        var error = asIsError ?? (gotNoData ? HostError.NoData : gotServerFailure ? HostError.TryAgain : last?.Error ?? HostError.HostNotFound);
        throw Failure(name, family, tried, error, last, config);
    }

    private static RemoteException NotFound(string name, AddressFamilyFilter family, List<string> tried, string reason) =>
        new(ErrorCode.NameNotFound, $"'{name}' was not found: {reason} (tried {string.Join(", ", tried)}).");

    private static RemoteException Failure(
        string name, AddressFamilyFilter family, List<string> tried, HostError error, CandidateResult? last, ResolverConfig config)
    {
        var candidates = string.Join(", ", tried);
        var servers = string.Join(", ", config.NameServers);
        var types = family switch
        {
            AddressFamilyFilter.IPv4 => "A",
            AddressFamilyFilter.IPv6 => "AAAA",
            _ => "A or AAAA",
        };

        // Only TRY_AGAIN is a temporary failure to getaddrinfo (EAI_AGAIN); the other errors say the name is not there.
        return error switch
        {
            HostError.TryAgain when last?.FirstBufferCode is DnsResponseCode.Refused => new(ErrorCode.NameResolutionFailed,
                $"Cannot resolve '{name}': name servers {servers} refused the query (tried {candidates})."),
            HostError.TryAgain when last?.FirstBufferCode is DnsResponseCode.ServerFailure => new(ErrorCode.NameResolutionFailed,
                $"Cannot resolve '{name}': name servers {servers} failed with SERVFAIL (tried {candidates})."),
            HostError.TryAgain => new(ErrorCode.NameResolutionFailed,
                $"Cannot resolve '{name}': name servers {servers} did not answer (tried {candidates})."),
            HostError.NoRecovery => NotFound(name, family, tried, "the name servers answered with an error that ends the search"),
            HostError.NoData => new(ErrorCode.NameNotFound, $"'{name}' has no {types} records (tried {candidates})."),
            _ => new(ErrorCode.NameNotFound, $"'{name}' was not found (tried {candidates})."),
        };
    }
}
