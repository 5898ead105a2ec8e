namespace ClusterContext.Agent.Dns;

/// <summary>One query of an exchange: what it asks and its encoded message.</summary>
internal sealed record DnsQuestion(string Name, DnsRecordType Type, ushort Id, byte[] Message)
{
    public static DnsQuestion Create(string name, DnsRecordType type)
    {
        var id = DnsMessage.NewId();
        return new DnsQuestion(name, type, id, DnsMessage.EncodeQuery(id, name, type));
    }
}
