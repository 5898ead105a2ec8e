namespace ClusterContext.Agent.Dns;

/// <summary>The names glibc's <c>res_search</c> tries for a host name, in order.</summary>
internal static class SearchList
{
    /// <summary>Whether the name is tried as it is before the search domains.</summary>
    public static bool TriesAsIsFirst(string name, ResolverConfig config) =>
        !name.EndsWith('.') && DnsName.CountDots(name) >= config.Ndots;

    /// <summary>The candidates for a valid name, without trailing dots, each once.</summary>
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
            Add(candidates, name);
        }

        foreach (var domain in config.SearchDomains)
        {
            // The root in the search list stands for the name itself, which is then not tried again at the end.
            Add(candidates, domain == "." ? name : $"{name}.{domain}");
        }

        if (!asIsFirst)
        {
            Add(candidates, name);
        }

        return candidates;
    }

    private static void Add(List<string> candidates, string candidate)
    {
        // glibc gives up on a name that grows too long; skipping it tries the rest of the list instead.
        if (candidate.Length <= DnsName.MaxLength && !candidates.Contains(candidate, StringComparer.OrdinalIgnoreCase))
        {
            candidates.Add(candidate);
        }
    }
}
