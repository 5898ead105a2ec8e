using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>The entries of an <c>/etc/hosts</c> file, looked up by name the way glibc's files backend does.</summary>
internal sealed class HostsFile
{
    private readonly Dictionary<string, List<HostsEntry>> _byName;

    private HostsFile(IReadOnlyList<HostsEntry> entries)
    {
        Entries = entries;
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
    public static HostsFile Empty { get; } = new([]);

    /// <summary>The valid lines of the file, in file order.</summary>
    public IReadOnlyList<HostsEntry> Entries { get; }

    /// <summary>Parses the text of a hosts file; lines without a valid address or without a name are ignored.</summary>
    public static HostsFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<HostsEntry>();
        foreach (var line in text.Split('\n'))
        {
            var comment = line.IndexOf('#', StringComparison.Ordinal);
            var fields = (comment < 0 ? line : line[..comment])
                .Split([' ', '\t', '\r', '\f', '\v'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && IPAddress.TryParse(fields[0], out var address))
            {
                var names = fields.Skip(1).Select(DnsName.TrimRoot).ToArray();
                entries.Add(new HostsEntry(address, names[0], names[1..]));
            }
        }

        return new HostsFile(entries);
    }

    /// <summary>The lines that name <paramref name="name"/> (ignoring case and a trailing dot), in file order.</summary>
    public IReadOnlyList<HostsEntry> Find(string name) =>
        _byName.TryGetValue(DnsName.TrimRoot(name), out var entries) ? entries : [];

    /// <summary>The addresses of <paramref name="name"/>, in file order, each once.</summary>
    public IReadOnlyList<IPAddress> Lookup(string name) => [.. Find(name).Select(e => e.Address).Distinct()];
}
