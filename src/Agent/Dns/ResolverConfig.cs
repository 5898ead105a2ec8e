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

    /// <summary>How long to wait for one name server to answer one query. Default 5 seconds.</summary>
    public int TimeoutSeconds { get; init; } = 5;

    /// <summary>How many rounds through the name servers a query makes. Default 2.</summary>
    public int Attempts { get; init; } = 2;

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
        var trimmed = domain.TrimEnd('.');
        return trimmed.Length == 0 ? "." : trimmed;
    }

    private static ResolverConfig WithOption(ResolverConfig config, string option)
    {
        var colon = option.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return config;
        }

        var value = LeadingNumber(option.AsSpan(colon + 1));

        // glibc clamps the top of each range; the bottom is clamped to 1 here because glibc would wait
        // a minimum of one second anyway, and with attempts:0 it would not send a query at all.
        return option[..colon] switch
        {
            "ndots" => config with { Ndots = Math.Min(value, MaxNdots) },
            "timeout" => config with { TimeoutSeconds = Math.Clamp(value, 1, MaxTimeoutSeconds) },
            "attempts" => config with { Attempts = Math.Clamp(value, 1, MaxAttempts) },
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
