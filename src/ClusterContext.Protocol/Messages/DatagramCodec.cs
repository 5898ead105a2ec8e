using System.Buffers;
using System.Net;

namespace ClusterContext.Protocol.Messages;

/// <summary>One datagram on a UDP stream: the remote end point, then the datagram's bytes.</summary>
public static class DatagramCodec
{
    /// <summary>Largest UDP payload carried (the IPv4 maximum).</summary>
    public const int MaxDatagram = 65507;

    /// <summary>Encodes a datagram for one data frame.</summary>
    public static byte[] Encode(IPEndPoint remote, ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > MaxDatagram)
        {
            throw new ArgumentException($"A datagram of {datagram.Length} bytes exceeds the UDP limit of {MaxDatagram}.", nameof(datagram));
        }

        var buffer = new ArrayBufferWriter<byte>(datagram.Length + 19);
        var writer = new PayloadWriter(buffer);
        writer.WriteEndPoint(remote);
        datagram.CopyTo(buffer.GetSpan(datagram.Length));
        buffer.Advance(datagram.Length);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a data frame's payload; returns the remote end point and the datagram's bytes.</summary>
    public static (IPEndPoint Remote, ReadOnlyMemory<byte> Datagram) Decode(ReadOnlyMemory<byte> frame)
    {
        var reader = new PayloadReader(frame.Span);
        var remote = reader.ReadEndPoint();
        return (remote, frame[(frame.Length - reader.Remaining)..]);
    }
}
