namespace ClusterContext.Agent.Incoming.Http2.Hpack;

/// <summary>One decoded header field; <see cref="NeverIndex"/> keeps a sender's "never indexed" mark when re-encoded (RFC 7541 section 6.2.3).</summary>
internal readonly record struct HeaderField(string Name, string Value, bool NeverIndex = false)
{
    /// <summary>The size the dynamic table counts for the field (RFC 7541 section 4.1).</summary>
    public int TableSize => Name.Length + Value.Length + 32;
}
