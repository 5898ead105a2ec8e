using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ClusterContext.Agent.Dns;

/// <summary>Encodes queries and decodes responses in the RFC 1035 wire format.</summary>
internal static partial class DnsMessage
{
    public const int HeaderLength = 12;

    public const ushort ClassInternet = 1;

    private const ushort FlagResponse = 0x8000;
    private const ushort FlagAuthoritative = 0x0400;
    private const ushort FlagTruncated = 0x0200;
    private const ushort FlagRecursionAvailable = 0x0080;
    private const ushort FlagRecursionDesired = 0x0100;
    private const ushort ResponseCodeMask = 0x000F;

    /// <summary>An unpredictable id, so that an off-path sender cannot easily forge an answer.</summary>
    public static ushort NewId() => (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);

    /// <summary>A recursive query with one question of <paramref name="type"/>, class IN, for a name that passed <see cref="DnsName.Validate"/>.</summary>
    public static byte[] EncodeQuery(ushort id, string name, DnsRecordType type)
    {
        ArgumentNullException.ThrowIfNull(name);
        var labels = DnsName.TrimRoot(name).Split('.');
        if (labels.Any(l => l.Length is 0 or > DnsName.MaxLabelLength || !Ascii.IsValid(l)))
        {
            throw new ArgumentException($"'{name}' cannot be encoded as a DNS name.", nameof(name));
        }

        var message = new byte[HeaderLength + labels.Sum(l => 1 + l.Length) + 1 + 4];
        var span = message.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, id);
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], FlagRecursionDesired);
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], 1);
        var position = HeaderLength;
        foreach (var label in labels)
        {
            span[position++] = (byte)label.Length;
            position += Encoding.ASCII.GetBytes(label, span[position..]);
        }

        span[position++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[position..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(span[(position + 2)..], ClassInternet);
        return message;
    }

    /// <summary>Whether the message is a response carrying <paramref name="id"/>; anything else on a query's socket is ignored, as glibc does.</summary>
    public static bool IsResponseTo(ReadOnlySpan<byte> message, ushort id) =>
        message.Length >= HeaderLength
        && BinaryPrimitives.ReadUInt16BigEndian(message) == id
        && (BinaryPrimitives.ReadUInt16BigEndian(message[2..]) & FlagResponse) != 0;
}
