using System.Net;

namespace ClusterContext.Protocol.Messages;

/// <summary>
/// Opens a TCP connection from the pod's network namespace. <paramref name="Host"/> is an address literal or a
/// name resolved the way the pod would. On success the request's id becomes a byte stream.
/// </summary>
internal sealed record TcpConnectRequest(string Host, ushort Port, uint TimeoutMilliseconds) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.TcpConnect;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteString(Host);
        writer.WriteUInt16(Port);
        writer.WriteUInt32(TimeoutMilliseconds);
    }

    internal static TcpConnectRequest Read(ref PayloadReader reader) => new(reader.ReadString(), reader.ReadUInt16(), reader.ReadUInt32());
}

/// <summary>The connection's two ends as seen in the pod.</summary>
internal sealed record TcpConnectResponse(IPEndPoint LocalEndPoint, IPEndPoint RemoteEndPoint) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.TcpConnected;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteEndPoint(LocalEndPoint);
        writer.WriteEndPoint(RemoteEndPoint);
    }

    internal static TcpConnectResponse Read(ref PayloadReader reader) => new(reader.ReadEndPoint(), reader.ReadEndPoint());
}

/// <summary>
/// Opens a UDP socket in the pod's network namespace. The request's id becomes a datagram stream: every data
/// frame is one datagram, encoded by <see cref="DatagramCodec"/> with the remote address it goes to or came from.
/// </summary>
internal sealed record UdpOpenRequest(bool IPv6) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.UdpOpen;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteBool(IPv6);

    internal static UdpOpenRequest Read(ref PayloadReader reader) => new(reader.ReadBool());
}

/// <summary>The UDP socket's local address in the pod.</summary>
internal sealed record UdpOpenResponse(IPEndPoint LocalEndPoint) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.UdpOpened;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteEndPoint(LocalEndPoint);

    internal static UdpOpenResponse Read(ref PayloadReader reader) => new(reader.ReadEndPoint());
}
