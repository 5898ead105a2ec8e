using System.Net;

namespace ClusterContext.Agent.Dns;

/// <summary>
/// The answer section read as glibc's getaddrinfo reads it (<c>gaih_getanswer_slice</c>, glibc 2.36 as Debian ships
/// it): the name expected starts as the question's and becomes the target of each CNAME met, whatever the CNAME's
/// owner; an address record counts when it is of the type asked, owned by the name expected, and of the right length.
/// Anything else is skipped.
/// </summary>
internal sealed class DnsRecordSet
{
    public List<IPAddress> Addresses { get; } = [];

    public string? Canonical { get; private set; }

    public bool HasAlias { get; private set; }

    public uint TtlSeconds { get; private set; } = uint.MaxValue;

    public static DnsRecordSet Read(ref DnsMessageReader reader, int count, string question, DnsRecordType type)
    {
        var set = new DnsRecordSet();
        var expected = question;
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
                var data = reader.ReadBytes(dataLength);
                set.TtlSeconds = Math.Min(set.TtlSeconds, ttl);
                if (data.Length == (type == DnsRecordType.A ? 4 : 16) && string.Equals(owner, expected, StringComparison.OrdinalIgnoreCase))
                {
                    set.Addresses.Add(new IPAddress(data));
                }
            }
            else if (recordType == DnsRecordType.Cname)
            {
                var target = reader.ReadName();
                if (reader.Position != dataEnd)
                {
                    throw DnsMessageReader.Malformed($"CNAME data of {owner} does not match its length");
                }

                set.HasAlias = true;
                set.TtlSeconds = Math.Min(set.TtlSeconds, ttl);
                expected = target;
                if (set.Addresses.Count == 0)
                {
                    set.Canonical = target;
                }
            }
            else
            {
                reader.Skip(dataLength);
            }
        }

        return set;
    }

    /// <summary>RFC 2181 section 8: a TTL with the top bit set is read as zero.</summary>
    private static uint Ttl(uint value) => value > int.MaxValue ? 0 : value;
}
