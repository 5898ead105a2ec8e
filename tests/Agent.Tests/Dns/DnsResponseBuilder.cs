using System.Buffers.Binary;
using System.Net;
using System.Text;
using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

/// <summary>Writes DNS responses the way a server does, compressing every name against the names already written.</summary>
internal sealed class DnsResponseBuilder
{
    private readonly List<byte> _bytes = [];
    private readonly Dictionary<string, int> _suffixes = new(StringComparer.OrdinalIgnoreCase);

    public static byte[] Build(
        ushort id,
        string question,
        ushort questionType,
        IEnumerable<FakeRecord> answers,
        DnsResponseCode code = DnsResponseCode.NoError,
        bool truncated = false)
    {
        var records = answers.ToList();
        var builder = new DnsResponseBuilder();
        builder.UInt16(id);
        builder.UInt16((ushort)(0x8180 | (truncated ? 0x0200 : 0) | (int)code));
        builder.UInt16(1);
        builder.UInt16((ushort)records.Count);
        builder.UInt16(0);
        builder.UInt16(0);
        builder.Name(question);
        builder.UInt16(questionType);
        builder.UInt16(1);
        foreach (var record in records)
        {
            builder.Name(record.Owner);
            builder.UInt16((ushort)record.Type);
            builder.UInt16(record.Class);
            builder.UInt32(record.Ttl);
            var lengthAt = builder._bytes.Count;
            builder.UInt16(0);
            builder.Data(record);
            var length = builder._bytes.Count - lengthAt - 2;
            builder._bytes[lengthAt] = (byte)(length >> 8);
            builder._bytes[lengthAt + 1] = (byte)length;
        }

        return [.. builder._bytes];
    }

    private void Data(FakeRecord record)
    {
        switch (record.Type)
        {
            case DnsRecordType.A or DnsRecordType.Aaaa:
                _bytes.AddRange(IPAddress.Parse(record.Data).GetAddressBytes());
                break;
            case DnsRecordType.Cname:
                Name(record.Data);
                break;
            default:
                _bytes.AddRange(Encoding.ASCII.GetBytes(record.Data));
                break;
        }
    }

    private void Name(string name)
    {
        var labels = name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < labels.Length; i++)
        {
            var suffix = string.Join('.', labels[i..]);
            if (_suffixes.TryGetValue(suffix, out var offset))
            {
                UInt16((ushort)(0xC000 | offset));
                return;
            }

            if (_bytes.Count < 0x3FFF)
            {
                _suffixes[suffix] = _bytes.Count;
            }

            _bytes.Add((byte)labels[i].Length);
            _bytes.AddRange(Encoding.ASCII.GetBytes(labels[i]));
        }

        _bytes.Add(0);
    }

    private void UInt16(ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        _bytes.AddRange(bytes);
    }

    private void UInt32(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        _bytes.AddRange(bytes);
    }
}
