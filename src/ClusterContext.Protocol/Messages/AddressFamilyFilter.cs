namespace ClusterContext.Protocol.Messages;

/// <summary>Which address records a resolution asks for; the numeric values are part of the wire format.</summary>
internal enum AddressFamilyFilter : byte
{
    /// <summary>A and AAAA.</summary>
    Any = 0,
    /// <summary>A only.</summary>
    IPv4 = 1,
    /// <summary>AAAA only.</summary>
    IPv6 = 2,
}
