using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>The answer section's CNAME and address records of interest, keyed by owner name.</summary>
internal sealed class DnsRecordSet
{
    public Dictionary<string, (string Target, uint TtlSeconds)> Aliases { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<(string Owner, IPAddress Address, uint TtlSeconds)> Addresses { get; } = [];

    /// <summary>Reads <paramref name="count"/> resource records, keeping CNAMEs and addresses of <paramref name="type"/> in class IN.</summary>
    public static DnsRecordSet Read(ref DnsMessageReader reader, int count, DnsRecordType type)
    {
        var set = new DnsRecordSet();
        for (var i = 0; i < count; i++)
        {
            var owner = reader.ReadName();
            var recordType = (DnsRecordType)reader.ReadUInt16();
            var recordClass = reader.ReadUInt16();
            var ttl = Ttl(reader.ReadUInt32());
            var dataLength = reader.ReadUInt16();
            var dataEnd = reader.Position + dataLength;
            if (recordClass != DnsMessage.ClassInternet)
            {
                reader.Skip(dataLength);
            }
            else if (recordType == type)
            {
                set.Addresses.Add((owner, Address(reader.ReadBytes(dataLength), type), ttl));
            }
            else if (recordType == DnsRecordType.Cname)
            {
                var target = reader.ReadName();
                if (reader.Position != dataEnd)
                {
                    throw DnsMessageReader.Malformed($"CNAME data of {owner} does not match its length");
                }

                // The first CNAME of an owner wins; a name has only one, so a second is noise.
                set.Aliases.TryAdd(owner, (target, ttl));
            }
            else
            {
                reader.Skip(dataLength);
            }
        }

        return set;
    }

    private static IPAddress Address(ReadOnlySpan<byte> data, DnsRecordType type) =>
        data.Length == (type == DnsRecordType.A ? 4 : 16)
            ? new IPAddress(data)
            : throw DnsMessageReader.Malformed($"{type} record with {data.Length} bytes of data");

    /// <summary>RFC 2181 section 8: a TTL with the top bit set is read as zero.</summary>
    private static uint Ttl(uint value) => value > int.MaxValue ? 0 : value;
}
