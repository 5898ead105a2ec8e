using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace ClusterContext.Testing.Sandbox.Network;

/// <summary>Just enough of RFC 1035 to ask for an A record and read the answer; no resolver is installed on the host to do it.</summary>
internal static class DnsMessage
{
    private const ushort TypeA = 1;
    private const ushort ClassIn = 1;
    private const int HeaderLength = 12;

    public static byte[] CreateQuery(ushort id, string name)
    {
        var labels = name.TrimEnd('.').Split('.');
        var message = new byte[HeaderLength + labels.Sum(l => l.Length + 1) + 1 + 4];
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), 0x0100); // standard query, recursion desired
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 1);
        var offset = HeaderLength;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63)
            {
                throw new ArgumentException($"'{name}' is not a valid DNS name.", nameof(name));
            }

            message[offset++] = (byte)label.Length;
            offset += Encoding.ASCII.GetBytes(label, message.AsSpan(offset));
        }

        message[offset++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(offset), TypeA);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(offset + 2), ClassIn);
        return message;
    }

    public static DnsQueryResult ParseResponse(ReadOnlySpan<byte> message, ushort expectedId)
    {
        Require(message, 0, HeaderLength);
        if (BinaryPrimitives.ReadUInt16BigEndian(message) != expectedId)
        {
            throw new InvalidDataException("The DNS response id does not match the query.");
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if ((flags & 0x8000) == 0)
        {
            throw new InvalidDataException("The DNS message is not a response.");
        }

        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        int answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var offset = HeaderLength;
        for (var i = 0; i < questions; i++)
        {
            offset = SkipName(message, offset) + 4;
        }

        var addresses = new List<IPAddress>();
        for (var i = 0; i < answers; i++)
        {
            offset = SkipName(message, offset);
            Require(message, offset, 10);
            var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            Require(message, offset, length);
            if (type == TypeA && @class == ClassIn && length == 4)
            {
                addresses.Add(new IPAddress(message.Slice(offset, 4)));
            }

            offset += length;
        }

        return new DnsQueryResult(flags & 0xF, addresses);
    }

    private static int SkipName(ReadOnlySpan<byte> message, int offset)
    {
        while (true)
        {
            Require(message, offset, 1);
            var length = message[offset];
            if (length == 0)
            {
                return offset + 1;
            }

            if ((length & 0xC0) == 0xC0)
            {
                Require(message, offset, 2);
                return offset + 2; // a compression pointer ends the name
            }

            offset += 1 + length;
        }
    }

    private static void Require(ReadOnlySpan<byte> message, int offset, int count)
    {
        if (offset + count > message.Length)
        {
            throw new InvalidDataException("The DNS message is truncated.");
        }
    }
}
