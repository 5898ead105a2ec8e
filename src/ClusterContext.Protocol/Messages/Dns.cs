using System.Net;

namespace ClusterContext.Protocol.Messages;

/// <summary>Resolves a name the way the target pod would (its hosts file, search domains, ndots and name servers).</summary>
internal sealed record ResolveRequest(string Name, AddressFamilyFilter Family) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Resolve;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteString(Name);
        writer.WriteByte((byte)Family);
    }

    internal static ResolveRequest Read(ref PayloadReader reader)
    {
        var name = reader.ReadString();
        var family = reader.ReadByte();
        return family <= (byte)AddressFamilyFilter.IPv6
            ? new ResolveRequest(name, (AddressFamilyFilter)family)
            : throw new ProtocolException(ErrorCode.ProtocolError, $"Malformed message: unknown address family {family}.");
    }
}

/// <summary>The addresses a name resolved to.</summary>
/// <param name="QueriedName">The fully qualified name that answered (after applying search domains), e.g. <c>redis.shop.svc.cluster.local</c>.</param>
/// <param name="CanonicalName">The end of any CNAME chain.</param>
/// <param name="Addresses">IPv4 and IPv6 addresses, in the order the resolver returned them.</param>
/// <param name="TtlSeconds">How long the answer may be cached.</param>
internal sealed record ResolveResponse(string QueriedName, string CanonicalName, IReadOnlyList<IPAddress> Addresses, uint TtlSeconds) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Resolved;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteString(QueriedName);
        writer.WriteString(CanonicalName);
        writer.WriteList(Addresses, static (w, a) => w.WriteAddress(a));
        writer.WriteUInt32(TtlSeconds);
    }

    internal static ResolveResponse Read(ref PayloadReader reader) => new(
        reader.ReadString(), reader.ReadString(), reader.ReadList(static (ref PayloadReader r) => r.ReadAddress()), reader.ReadUInt32());
}

/// <summary>Asks for the pod's resolver configuration.</summary>
internal sealed record GetResolverConfigRequest : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.GetResolverConfig;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
    }

    internal static GetResolverConfigRequest Read(ref PayloadReader reader) => new();
}

/// <summary>The pod's <c>/etc/resolv.conf</c>, parsed.</summary>
internal sealed record ResolverConfigResponse(IReadOnlyList<IPAddress> NameServers, IReadOnlyList<string> SearchDomains, int Ndots) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.ResolverConfig;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteList(NameServers, static (w, a) => w.WriteAddress(a));
        writer.WriteList(SearchDomains, static (w, s) => w.WriteString(s));
        writer.WriteInt32(Ndots);
    }

    internal static ResolverConfigResponse Read(ref PayloadReader reader) => new(
        reader.ReadList(static (ref PayloadReader r) => r.ReadAddress()),
        reader.ReadList(static (ref PayloadReader r) => r.ReadString()),
        reader.ReadInt32());
}
