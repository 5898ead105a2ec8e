using System.Buffers.Binary;

namespace ClusterContext.Agent.Dns;

internal static partial class DnsMessage
{
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
        reader.Skip(2);
        var additional = reader.ReadUInt16();
        if (responseId != id || (flags & FlagResponse) == 0)
        {
            throw DnsMessageReader.Malformed($"not a response to query {id}");
        }

        var code = (DnsResponseCode)(flags & ResponseCodeMask);
        var truncated = (flags & FlagTruncated) != 0;
        var authoritative = (flags & FlagAuthoritative) != 0;
        var recursive = (flags & FlagRecursionAvailable) != 0;
        var queried = DnsName.TrimRoot(name);
        ReadQuestion(ref reader, questions, queried, type, mayOmit: code != DnsResponseCode.NoError || truncated);

        // A truncated answer section may end mid-record, and it is asked again over TCP anyway; error
        // responses are not searched for records because nothing is taken from them.
        if (truncated || code != DnsResponseCode.NoError)
        {
            return new DnsResponse(responseId, code, truncated, authoritative, recursive, answers, additional, queried, [], false, 0);
        }

        var records = DnsRecordSet.Read(ref reader, answers, queried, type);
        var canonical = records.Canonical ?? queried;
        return new DnsResponse(
            responseId, code, truncated, authoritative, recursive, answers, additional, canonical, records.Addresses, records.HasAlias,
            records.Addresses.Count > 0 ? records.TtlSeconds : 0);
    }

    /// <summary>
    /// Whether <paramref name="message"/> is the response to the query <paramref name="id"/> for <paramref name="name"/> and
    /// <paramref name="type"/>: glibc's <c>res_queriesmatch</c>, which drops anything else (even a response without its
    /// question) as a stray datagram and goes on waiting.
    /// </summary>
    public static bool AnswersQuery(ReadOnlySpan<byte> message, ushort id, string name, DnsRecordType type)
    {
        if (!IsResponseTo(message, id))
        {
            return false;
        }

        // Some resolvers send REFUSED or SERVFAIL as a bare header without the question: glibc matches it by id alone.
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var code = (DnsResponseCode)(BinaryPrimitives.ReadUInt16BigEndian(message[2..]) & ResponseCodeMask);
        if (message.Length == HeaderLength && questions == 0
            && code is DnsResponseCode.ServerFailure or DnsResponseCode.NotImplemented or DnsResponseCode.Refused)
        {
            return true;
        }

        if (questions != 1)
        {
            return false;
        }

        try
        {
            var reader = new DnsMessageReader(message);
            reader.Skip(HeaderLength);
            return string.Equals(reader.ReadName(), DnsName.TrimRoot(name), StringComparison.OrdinalIgnoreCase)
                && reader.ReadUInt16() == (ushort)type
                && reader.ReadUInt16() == ClassInternet;
        }
        catch (InvalidDataException)
        {
            return false;
        }
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
}
