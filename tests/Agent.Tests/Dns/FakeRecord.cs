using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

/// <summary>A resource record for test responses: <paramref name="Data"/> is an address for A/AAAA, a name for CNAME, raw text otherwise.</summary>
internal sealed record FakeRecord(string Owner, DnsRecordType Type, string Data, uint Ttl = 300, ushort Class = 1);
