using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>One line of a hosts file: an address with its canonical name and aliases.</summary>
internal sealed record HostsEntry(IPAddress Address, string CanonicalName, IReadOnlyList<string> Aliases);
