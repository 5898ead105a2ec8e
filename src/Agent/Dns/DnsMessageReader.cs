using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ClusterContext.Agent.Dns;

/// <summary>
/// Reads a DNS message front to back. Every read is bounds-checked and compressed names are followed with a
/// hop limit, so a malformed or hostile message ends in <see cref="InvalidDataException"/> and nothing else.
/// </summary>
internal ref struct DnsMessageReader(ReadOnlySpan<byte> message)
{
    /// <summary>RFC 1035 limit on the wire length of a name.</summary>
    private const int MaxWireNameLength = 255;

    /// <summary>More pointers than a 255-byte name can have labels means the pointers loop.</summary>
    private const int MaxPointerHops = 128;

    private readonly ReadOnlySpan<byte> _message = message;

    public int Position { readonly get; private set; }

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public ReadOnlySpan<byte> ReadBytes(int count) => Take(count);

    public void Skip(int count) => Take(count);

    /// <summary>Reads a possibly compressed name, in text form without the trailing dot; the root is the empty string.</summary>
    public string ReadName()
    {
        var text = new StringBuilder();
        var position = Position;
        var resumeAt = -1;
        var wireLength = 1;
        for (var hops = 0; ;)
        {
            var length = ByteAt(position);
            switch (length & 0xC0)
            {
                case 0 when length == 0:
                    Position = resumeAt < 0 ? position + 1 : resumeAt;
                    return text.ToString();
                case 0:
                    wireLength += length + 1;
                    if (wireLength > MaxWireNameLength)
                    {
                        throw Malformed($"name longer than {MaxWireNameLength} bytes");
                    }

                    if (position + 1 + length > _message.Length)
                    {
                        throw Malformed("label runs past the end of the message");
                    }

                    AppendLabel(text, _message.Slice(position + 1, length));
                    position += 1 + length;
                    break;
                case 0xC0:
                    var target = ((length & 0x3F) << 8) | ByteAt(position + 1);
                    if (resumeAt < 0)
                    {
                        resumeAt = position + 2;
                    }

                    if (++hops > MaxPointerHops)
                    {
                        throw Malformed("compression pointers loop");
                    }

                    if (target >= _message.Length)
                    {
                        throw Malformed($"compression pointer to offset {target} is outside the message");
                    }

                    position = target;
                    break;
                default:
                    throw Malformed($"unsupported label type 0x{length & 0xC0:X2}");
            }
        }
    }

    public static InvalidDataException Malformed(string reason) => new($"Malformed DNS message: {reason}.");

    private static void AppendLabel(StringBuilder text, ReadOnlySpan<byte> label)
    {
        if (text.Length > 0)
        {
            text.Append('.');
        }

        // Presentation format (RFC 1035 section 5.1), so that a dot inside a label cannot pass for a separator.
        foreach (var b in label)
        {
            if (b is (byte)'.' or (byte)'\\')
            {
                text.Append('\\').Append((char)b);
            }
            else if (b is <= (byte)' ' or > (byte)'~')
            {
                text.Append('\\').Append(b.ToString("D3", CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append((char)b);
            }
        }
    }

    private readonly byte ByteAt(int position) =>
        position < _message.Length ? _message[position] : throw Malformed("name runs past the end of the message");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _message.Length - Position)
        {
            throw Malformed($"{count} bytes needed at offset {Position}, message is {_message.Length} bytes");
        }

        var bytes = _message.Slice(Position, count);
        Position += count;
        return bytes;
    }
}
