using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>The settings of a <c>resolv.conf</c>, read the way glibc reads them.</summary>
internal sealed record ResolverConfig
{
    /// <summary>glibc's MAXNS: name servers after the third are ignored.</summary>
    public const int MaxNameServers = 3;

    /// <summary>glibc's RES_MAXNDOTS.</summary>
    public const int MaxNdots = 15;

    /// <summary>glibc's RES_MAXRETRANS.</summary>
    public const int MaxTimeoutSeconds = 30;

    /// <summary>glibc's RES_MAXRETRY.</summary>
    public const int MaxAttempts = 5;

    /// <summary>Name servers in the order they are asked; glibc falls back to the local host when the file names none.</summary>
    public IReadOnlyList<IPAddress> NameServers { get; init; } = [IPAddress.Loopback];

    /// <summary>Domains appended to relative names, without trailing dots; <c>.</c> stands for the root.</summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    /// <summary>Names with at least this many dots are tried as they are before the search list. Default 1.</summary>
    public int Ndots { get; init; } = 1;

    /// <summary>
    /// glibc's <c>retrans</c>: how long the first name server gets to answer, in seconds. Default 5. The others get
    /// less or more (<see cref="TimeoutFor"/>); 0 is kept as written and waits one second, as glibc does.
    /// </summary>
    public int TimeoutSeconds { get; init; } = 5;

    /// <summary>How many rounds through the name servers a query makes. Default 2; with 0 (as glibc) no query is sent.</summary>
    public int Attempts { get; init; } = 2;

    /// <summary><c>options rotate</c>: each lookup starts at another name server.</summary>
    public bool Rotate { get; init; }

    /// <summary><c>options no-tld-query</c>: a name without dots is not tried as it is after the search list.</summary>
    public bool NoTldQuery { get; init; }

    /// <summary><c>options use-vc</c>: queries go over TCP.</summary>
    public bool UseTcp { get; init; }

    /// <summary><c>options no-aaaa</c> (glibc 2.36): lookups for any family ask for A records only.</summary>
    public bool NoAaaa { get; init; }

    /// <summary><c>options single-request</c> or <c>single-request-reopen</c>: A and AAAA are asked one after the other.</summary>
    public bool SingleRequest { get; init; }

    /// <summary>
    /// How long name server <paramref name="index"/> gets to answer one exchange, as glibc's <c>send_dg</c> computes it:
    /// the timeout doubled for each server before it, divided by the number of servers after the first; at least a second.
    /// </summary>
    public TimeSpan TimeoutFor(int index)
    {
        var seconds = TimeoutSeconds << index;
        if (index > 0)
        {
            seconds /= NameServers.Count;
        }

        return TimeSpan.FromSeconds(Math.Max(seconds, 1));
    }

    /// <summary>Parses the text of a <c>resolv.conf</c>; unknown keywords and options, and invalid values, are ignored.</summary>
    public static ResolverConfig Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var config = new ResolverConfig();
        var nameServers = new List<IPAddress>();
        foreach (var line in text.Split('\n'))
        {
            var fields = WithoutComment(line).Split([' ', '\t', '\r', '\f', '\v'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }

            switch (fields[0])
            {
                case "nameserver" when fields.Length > 1:
                    if (nameServers.Count < MaxNameServers && IPAddress.TryParse(fields[1], out var address))
                    {
                        nameServers.Add(address);
                    }

                    break;
                case "search":
                    config = config with { SearchDomains = [.. fields.Skip(1).Select(NormalizeDomain)] };
                    break;
                case "domain" when fields.Length > 1:
                    config = config with { SearchDomains = [NormalizeDomain(fields[1])] };
                    break;
                case "options":
                    config = fields.Skip(1).Aggregate(config, WithOption);
                    break;
            }
        }

        return nameServers.Count > 0 ? config with { NameServers = nameServers } : config;
    }

    private static string WithoutComment(string line)
    {
        var comment = line.AsSpan().IndexOfAny('#', ';');
        return comment < 0 ? line : line[..comment];
    }

    private static string NormalizeDomain(string domain)
    {
        // glibc drops one leading dot of a search domain (".example" searches example) and sends the rest as written.
        var trimmed = (domain.StartsWith('.') ? domain[1..] : domain).TrimEnd('.');
        return trimmed.Length == 0 ? "." : trimmed;
    }

    private static ResolverConfig WithOption(ResolverConfig config, string option)
    {
        // glibc compares each option by its prefix: "rotate" also matches "rotated", "single-request-reopen" is checked
        // before "single-request".
        if (option.StartsWith("ndots:", StringComparison.Ordinal))
        {
            return config with { Ndots = Math.Min(LeadingNumber(option.AsSpan(6)), MaxNdots) };
        }

        if (option.StartsWith("timeout:", StringComparison.Ordinal))
        {
            return config with { TimeoutSeconds = Math.Min(LeadingNumber(option.AsSpan(8)), MaxTimeoutSeconds) };
        }

        if (option.StartsWith("attempts:", StringComparison.Ordinal))
        {
            return config with { Attempts = Math.Min(LeadingNumber(option.AsSpan(9)), MaxAttempts) };
        }

        return option switch
        {
            _ when option.StartsWith("rotate", StringComparison.Ordinal) => config with { Rotate = true },
            _ when option.StartsWith("single-request", StringComparison.Ordinal) => config with { SingleRequest = true },
            _ when option.StartsWith("no_tld_query", StringComparison.Ordinal) || option.StartsWith("no-tld-query", StringComparison.Ordinal)
                => config with { NoTldQuery = true },
            _ when option.StartsWith("use-vc", StringComparison.Ordinal) => config with { UseTcp = true },
            _ when option.StartsWith("no-aaaa", StringComparison.Ordinal) => config with { NoAaaa = true },
            _ => config,
        };
    }

    /// <summary>Reads the number the way glibc's <c>atoi</c> does: leading digits only, nothing readable is 0.</summary>
    private static int LeadingNumber(ReadOnlySpan<char> text)
    {
        var value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                break;
            }

            value = Math.Min((value * 10) + (c - '0'), 1000);
        }

        return value;
    }
}
