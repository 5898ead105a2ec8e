namespace ClusterContext.Agent.Dns;

/// <summary>The names glibc's <c>res_search</c> tries for a host name, in order.</summary>
internal static class SearchList
{
    /// <summary>Whether the name is tried as it is before the search domains: a trailing dot, or at least ndots dots.</summary>
    public static bool TriesAsIsFirst(string name, ResolverConfig config) =>
        name.EndsWith('.') || DnsName.CountDots(name) >= config.Ndots;

    /// <summary>
    /// The candidates, without trailing dots, as glibc sends them (a domain listed twice is asked twice): the name
    /// alone when it ends with a dot; otherwise the name first if it has enough dots, each search domain, and the name
    /// last unless it was tried first, the root is on the list, or <c>no-tld-query</c> holds for a name without dots.
    /// </summary>
    public static IReadOnlyList<string> Candidates(string name, ResolverConfig config)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(config);
        if (name.EndsWith('.'))
        {
            return [name[..^1]];
        }

        var candidates = new List<string>();
        var asIsFirst = TriesAsIsFirst(name, config);
        if (asIsFirst)
        {
            candidates.Add(name);
        }

        var rootOnList = false;
        foreach (var domain in config.SearchDomains)
        {
            rootOnList |= domain == ".";
            candidates.Add(domain == "." ? name : $"{name}.{domain}");
        }

        var dots = DnsName.CountDots(name);
        if (!asIsFirst && !rootOnList && (dots > 0 || config.SearchDomains.Count == 0 || !config.NoTldQuery))
        {
            candidates.Add(name);
        }

        return candidates;
    }

    /// <summary>Whether the last candidate is the name as it is, tried after the search list (also when the search ended early).</summary>
    public static bool TriesAsIsLast(string name, ResolverConfig config, IReadOnlyList<string> candidates) =>
        !TriesAsIsFirst(name, config) && candidates.Count > config.SearchDomains.Count;
}
