using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Text;
using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Messages;

/// <summary>Encodes message fields big-endian into a buffer writer.</summary>
internal readonly struct PayloadWriter(IBufferWriter<byte> output)
{
    /// <summary>Writes one byte.</summary>
    public void WriteByte(byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    /// <summary>Writes a boolean as one byte.</summary>
    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    /// <summary>Writes an unsigned 16-bit integer.</summary>
    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(output.GetSpan(2), value);
        output.Advance(2);
    }

    /// <summary>Writes an unsigned 32-bit integer.</summary>
    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    /// <summary>Writes a signed 32-bit integer.</summary>
    public void WriteInt32(int value) => WriteUInt32(unchecked((uint)value));

    /// <summary>Writes an unsigned 64-bit integer.</summary>
    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    /// <summary>Writes a signed 64-bit integer.</summary>
    public void WriteInt64(long value) => WriteUInt64(unchecked((ulong)value));

    /// <summary>Writes a length-prefixed byte string.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteUInt32((uint)value.Length);
        value.CopyTo(output.GetSpan(value.Length));
        output.Advance(value.Length);
    }

    /// <summary>Writes a length-prefixed UTF-8 string.</summary>
    public void WriteString(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > ProtocolLimits.MaxStringBytes)
        {
            throw new ArgumentException($"String of {length} UTF-8 bytes exceeds the protocol limit of {ProtocolLimits.MaxStringBytes}.", nameof(value));
        }

        WriteUInt32((uint)length);
        Encoding.UTF8.GetBytes(value, output.GetSpan(length));
        output.Advance(length);
    }

    /// <summary>Writes a string that may be null (a presence byte, then the string).</summary>
    public void WriteNullableString(string? value)
    {
        WriteBool(value is not null);
        if (value is not null)
        {
            WriteString(value);
        }
    }

    /// <summary>Writes an IPv4 or IPv6 address as a length byte and the address bytes.</summary>
    public void WriteAddress(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException($"Cannot encode address {address}.", nameof(address));
        }

        WriteByte((byte)written);
        bytes[..written].CopyTo(output.GetSpan(written));
        output.Advance(written);
    }

    /// <summary>Writes an address and a port.</summary>
    public void WriteEndPoint(IPEndPoint endPoint)
    {
        WriteAddress(endPoint.Address);
        WriteUInt16((ushort)endPoint.Port);
    }

    /// <summary>Writes a count prefix and each item.</summary>
    public void WriteList<T>(IReadOnlyList<T> items, Action<PayloadWriter, T> writeItem)
    {
        WriteUInt32((uint)items.Count);
        foreach (var item in items)
        {
            writeItem(this, item);
        }
    }
}
