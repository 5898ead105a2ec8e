using System.Net;

namespace ClusterContext.Agent.Dns;

internal static partial class DnsMessage
{
    /// <summary>Longer chains are treated as loops; real zones stay far below.</summary>
    private const int MaxCnameChain = 16;

    /// <summary>
    /// Decodes the response to the query <paramref name="id"/> for <paramref name="name"/> and <paramref name="type"/>.
    /// Throws <see cref="InvalidDataException"/> when the message is malformed or answers another query.
    /// </summary>
    public static DnsResponse DecodeResponse(ReadOnlySpan<byte> message, ushort id, string name, DnsRecordType type)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (type is not (DnsRecordType.A or DnsRecordType.Aaaa))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Only address queries are decoded.");
        }

        var reader = new DnsMessageReader(message);
        var responseId = reader.ReadUInt16();
        var flags = reader.ReadUInt16();
        var questions = reader.ReadUInt16();
        var answers = reader.ReadUInt16();
        reader.Skip(4);
        if (responseId != id || (flags & FlagResponse) == 0)
        {
            throw DnsMessageReader.Malformed($"not a response to query {id}");
        }

        var code = (DnsResponseCode)(flags & ResponseCodeMask);
        var truncated = (flags & FlagTruncated) != 0;
        var queried = DnsName.TrimRoot(name);
        ReadQuestion(ref reader, questions, queried, type, mayOmit: code != DnsResponseCode.NoError || truncated);

        // A truncated answer section may end mid-record, and it is asked again over TCP anyway; error
        // responses are not searched for records because nothing is taken from them.
        if (truncated || code != DnsResponseCode.NoError)
        {
            return new DnsResponse(responseId, code, truncated, queried, [], 0);
        }

        var records = DnsRecordSet.Read(ref reader, answers, type);
        return Resolve(responseId, queried, records);
    }

    private static void ReadQuestion(ref DnsMessageReader reader, ushort count, string name, DnsRecordType type, bool mayOmit)
    {
        // Servers may drop the question from error responses (FORMERR in particular); otherwise it must be ours.
        if (count == 0 && mayOmit)
        {
            return;
        }

        if (count != 1)
        {
            throw DnsMessageReader.Malformed($"{count} questions in a response to one");
        }

        var questionName = reader.ReadName();
        var questionType = reader.ReadUInt16();
        var questionClass = reader.ReadUInt16();
        if (!string.Equals(questionName, name, StringComparison.OrdinalIgnoreCase)
            || questionType != (ushort)type
            || questionClass != ClassInternet)
        {
            throw DnsMessageReader.Malformed($"response answers {questionName} type {questionType}, not {name} {type}");
        }
    }

    private static DnsResponse Resolve(ushort id, string name, DnsRecordSet records)
    {
        var canonical = name;
        var ttl = uint.MaxValue;
        for (var hops = 0; records.Aliases.TryGetValue(canonical, out var alias); hops++)
        {
            if (hops == MaxCnameChain)
            {
                throw DnsMessageReader.Malformed($"CNAME chain from {name} is longer than {MaxCnameChain} or loops");
            }

            ttl = Math.Min(ttl, alias.TtlSeconds);
            canonical = alias.Target;
        }

        var addresses = new List<IPAddress>();
        foreach (var (owner, address, addressTtl) in records.Addresses)
        {
            if (string.Equals(owner, canonical, StringComparison.OrdinalIgnoreCase))
            {
                addresses.Add(address);
                ttl = Math.Min(ttl, addressTtl);
            }
        }

        return new DnsResponse(id, DnsResponseCode.NoError, false, canonical, addresses, addresses.Count > 0 ? ttl : 0);
    }
}
