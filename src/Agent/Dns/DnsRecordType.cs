namespace ClusterContext.Agent.Dns;

/// <summary>The resource record types the resolver uses (RFC 1035, RFC 3596).</summary>
internal enum DnsRecordType : ushort
{
    A = 1,
    Cname = 5,
    Aaaa = 28,
}
