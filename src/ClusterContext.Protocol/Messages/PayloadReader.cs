using System.Buffers.Binary;
using System.Net;
using System.Text;
using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Messages;

/// <summary>
/// Decodes message fields. Every read is bounds-checked: running past the end, or a length or count larger
/// than what is left of the payload, is a <see cref="ProtocolException"/>, so a hostile payload can never make
/// the reader allocate more than the payload itself.
/// </summary>
internal ref struct PayloadReader(ReadOnlySpan<byte> payload)
{
    private ReadOnlySpan<byte> _remaining = payload;

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _remaining.Length;

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => Take(1)[0];

    /// <summary>Reads a boolean; any value other than 0 or 1 is malformed.</summary>
    public bool ReadBool() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var other => throw Malformed($"invalid boolean value {other}"),
    };

    /// <summary>Reads an unsigned 16-bit integer.</summary>
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    /// <summary>Reads an unsigned 32-bit integer.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    /// <summary>Reads a signed 32-bit integer.</summary>
    public int ReadInt32() => unchecked((int)ReadUInt32());

    /// <summary>Reads an unsigned 64-bit integer.</summary>
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    /// <summary>Reads a signed 64-bit integer.</summary>
    public long ReadInt64() => unchecked((long)ReadUInt64());

    /// <summary>Reads a length-prefixed byte string.</summary>
    public byte[] ReadBytes() => Take(ReadLength(int.MaxValue)).ToArray();

    /// <summary>Reads a length-prefixed UTF-8 string; invalid UTF-8 is malformed.</summary>
    public string ReadString()
    {
        var bytes = Take(ReadLength(ProtocolLimits.MaxStringBytes));
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed("string is not valid UTF-8");
        }
    }

    /// <summary>Reads a string written by <see cref="PayloadWriter.WriteNullableString"/>.</summary>
    public string? ReadNullableString() => ReadBool() ? ReadString() : null;

    /// <summary>Reads an IPv4 or IPv6 address.</summary>
    public IPAddress ReadAddress()
    {
        var length = ReadByte();
        if (length is not (4 or 16))
        {
            throw Malformed($"address of {length} bytes");
        }

        return new IPAddress(Take(length));
    }

    /// <summary>Reads an address and a port.</summary>
    public IPEndPoint ReadEndPoint()
    {
        var address = ReadAddress();
        return new IPEndPoint(address, ReadUInt16());
    }

    /// <summary>Reads a count prefix and that many items, each of which takes at least one byte.</summary>
    public List<T> ReadList<T>(ReadItem<T> readItem)
    {
        var count = ReadLength(int.MaxValue);
        var items = new List<T>(count);
        for (var i = 0; i < count; i++)
        {
            items.Add(readItem(ref this));
        }

        return items;
    }

    /// <summary>Fails unless every byte was consumed, so that trailing garbage is never ignored.</summary>
    public readonly void EnsureEnd()
    {
        if (_remaining.Length != 0)
        {
            throw Malformed($"{_remaining.Length} unexpected trailing bytes");
        }
    }

    /// <summary>Reads a length or count and checks that that many bytes can still follow.</summary>
    private int ReadLength(int max)
    {
        var length = ReadUInt32();
        if (length > (uint)_remaining.Length || length > (uint)max)
        {
            throw Malformed($"length {length} exceeds the {_remaining.Length} bytes left");
        }

        return (int)length;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_remaining.Length < count)
        {
            throw Malformed("payload is truncated");
        }

        var taken = _remaining[..count];
        _remaining = _remaining[count..];
        return taken;
    }

    private static ProtocolException Malformed(string what) =>
        new(ErrorCode.ProtocolError, $"Malformed message: {what}.");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads one list item.</summary>
    public delegate T ReadItem<out T>(ref PayloadReader reader);
}
