using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>The entries of an <c>/etc/hosts</c> file, looked up by name the way glibc's files backend does.</summary>
internal sealed class HostsFile
{
    private readonly Dictionary<string, List<HostsEntry>> _byName;

    private HostsFile(IReadOnlyList<HostsEntry> entries, bool multi)
    {
        Entries = entries;
        Multi = multi;
        _byName = new Dictionary<string, List<HostsEntry>>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            foreach (var name in entry.Aliases.Prepend(entry.CanonicalName))
            {
                if (!_byName.TryGetValue(name, out var list))
                {
                    _byName[name] = list = [];
                }

                // A line naming the same host twice still stands for one address.
                if (list.Count == 0 || !ReferenceEquals(list[^1], entry))
                {
                    list.Add(entry);
                }
            }
        }
    }

    /// <summary>A hosts file without entries.</summary>
    public static HostsFile Empty { get; } = new([], multi: false);

    /// <summary>
    /// <c>multi on</c> in <c>/etc/host.conf</c>: a lookup gets the addresses of every line naming the host. Without it
    /// (glibc's default, when the image has no host.conf) only the first such line counts.
    /// </summary>
    public bool Multi { get; }

    /// <summary>The valid lines of the file, in file order.</summary>
    public IReadOnlyList<HostsEntry> Entries { get; }

    /// <summary>Parses the text of a hosts file; lines without a valid address or without a name are ignored.</summary>
    /// <param name="text">The hosts file.</param>
    /// <param name="hostConf">The text of <c>/etc/host.conf</c>, which says whether <see cref="Multi"/> holds.</param>
    public static HostsFile Parse(string text, string hostConf = "")
    {
        ArgumentNullException.ThrowIfNull(hostConf);
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<HostsEntry>();
        foreach (var line in text.Split('\n'))
        {
            var comment = line.IndexOf('#', StringComparison.Ordinal);
            var fields = (comment < 0 ? line : line[..comment])
                .Split([' ', '\t', '\r', '\f', '\v'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && IPAddress.TryParse(fields[0], out var address))
            {
                var names = fields[1..];
                entries.Add(new HostsEntry(address, names[0], names[1..]));
            }
        }

        return new HostsFile(entries, IsMulti(hostConf));
    }

    /// <summary>glibc's <c>res_hconf</c>: keywords and <c>on</c>/<c>off</c> in any case, the last <c>multi</c> line wins.</summary>
    private static bool IsMulti(string hostConf)
    {
        var multi = false;
        foreach (var line in hostConf.Split('\n'))
        {
            var comment = line.IndexOf('#', StringComparison.Ordinal);
            var fields = (comment < 0 ? line : line[..comment]).Split([' ', '\t', '\r', ','], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && string.Equals(fields[0], "multi", StringComparison.OrdinalIgnoreCase))
            {
                multi = string.Equals(fields[1], "on", StringComparison.OrdinalIgnoreCase)
                    || (!string.Equals(fields[1], "off", StringComparison.OrdinalIgnoreCase) && multi);
            }
        }

        return multi;
    }

    /// <summary>The lines that name <paramref name="name"/> (ignoring case, as glibc's <c>strcasecmp</c>), in file order.</summary>
    public IReadOnlyList<HostsEntry> Find(string name) =>
        _byName.TryGetValue(name, out var entries) ? entries : [];

    /// <summary>The addresses of <paramref name="name"/>, in file order, each once.</summary>
    public IReadOnlyList<IPAddress> Lookup(string name) => [.. Find(name).Select(e => e.Address).Distinct()];
}
