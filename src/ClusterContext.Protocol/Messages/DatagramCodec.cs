using System.Buffers.Binary;
using System.Net;
using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Messages;

/// <summary>
/// Datagrams on a UDP stream. A stream carries bytes, so each datagram is framed: a 16-bit length, the remote end
/// point (where it goes to or came from), then the datagram's bytes. Boundaries survive however the bytes are split
/// into data frames.
/// </summary>
internal static class DatagramCodec
{
    /// <summary>Largest UDP payload carried (the IPv4 maximum).</summary>
    public const int MaxDatagram = 65507;

    /// <summary>Writes one datagram to a UDP stream.</summary>
    public static async ValueTask WriteAsync(Stream stream, IPEndPoint remote, ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        if (datagram.Length > MaxDatagram)
        {
            throw new ArgumentException($"A datagram of {datagram.Length} bytes exceeds the UDP limit of {MaxDatagram}.", nameof(datagram));
        }

        var record = new byte[2 + 1 + 16 + 2 + datagram.Length];
        var body = record.AsSpan(2);
        var addressLength = remote.Address.TryWriteBytes(body[1..], out var written) ? written : throw new ArgumentException($"Cannot encode {remote}.", nameof(remote));
        body[0] = (byte)addressLength;
        BinaryPrimitives.WriteUInt16BigEndian(body[(1 + addressLength)..], (ushort)remote.Port);
        datagram.Span.CopyTo(body[(3 + addressLength)..]);
        var length = 3 + addressLength + datagram.Length;
        BinaryPrimitives.WriteUInt16BigEndian(record, (ushort)length);
        await stream.WriteAsync(record.AsMemory(0, 2 + length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one datagram from a UDP stream; null at the end of the stream.</summary>
    public static async ValueTask<(IPEndPoint Remote, byte[] Datagram)?> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var prefix = new byte[2];
        if (await stream.ReadAtLeastAsync(prefix, 2, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < 2)
        {
            return null;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        var reader = new PayloadReader(body);
        var remote = reader.ReadEndPoint();
        return (remote, body[(length - reader.Remaining)..]);
    }

    /// <summary>The framed size of a datagram, for checks against <see cref="ProtocolLimits"/>.</summary>
    public static int FramedSize(int datagramLength) => 2 + 1 + 16 + 2 + datagramLength;
}
