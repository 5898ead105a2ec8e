using System.Buffers.Binary;
using System.Text;
using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

/// <summary>A query as the fake server saw it; parsed independently of the code under test.</summary>
internal sealed record FakeQuery(ushort Id, ushort Flags, string Name, DnsRecordType Type, bool OverTcp)
{
    public static FakeQuery Parse(ReadOnlySpan<byte> message, bool overTcp)
    {
        var labels = new List<string>();
        var position = 12;
        while (message[position] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(message.Slice(position + 1, message[position])));
            position += 1 + message[position];
        }

        return new FakeQuery(
            BinaryPrimitives.ReadUInt16BigEndian(message),
            BinaryPrimitives.ReadUInt16BigEndian(message[2..]),
            string.Join('.', labels),
            (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(message[(position + 1)..]),
            overTcp);
    }
}
