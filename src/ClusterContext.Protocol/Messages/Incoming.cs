using System.Net;

namespace ClusterContext.Protocol.Messages;

/// <summary>
/// Asks the agent for a pod port's incoming traffic: all of it, or with <paramref name="Filter"/> the HTTP requests
/// it matches. The agent redirects the port (if no session of the pod does yet) and from then on opens an
/// <see cref="IncomingConnectionRequest"/> to this session for each connection or request it takes.
/// </summary>
internal sealed record SubscribeRequest(ushort Port, IncomingMode Mode, HttpFilter? Filter) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Subscribe;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteUInt16(Port);
        writer.WriteByte((byte)Mode);
        writer.WriteBool(Filter is not null);
        Filter?.Write(writer);
    }

    internal static SubscribeRequest Read(ref PayloadReader reader)
    {
        var port = reader.ReadUInt16();
        var mode = IncomingModes.Read(ref reader);
        return new SubscribeRequest(port, mode, reader.ReadBool() ? HttpFilter.Read(ref reader) : null);
    }
}

/// <summary>The subscription is in place; <paramref name="Notice"/> says what else the session should know (an overlap with another session's filter), or is empty.</summary>
internal sealed record SubscribeResponse(string Notice) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Subscribed;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteString(Notice);

    internal static SubscribeResponse Read(ref PayloadReader reader) => new(reader.ReadString());
}

/// <summary>Ends this session's subscription to <paramref name="Port"/>; answered with <see cref="UnsubscribeResponse"/>.</summary>
internal sealed record UnsubscribeRequest(ushort Port) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Unsubscribe;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteUInt16(Port);

    internal static UnsubscribeRequest Read(ref PayloadReader reader) => new(reader.ReadUInt16());
}

/// <summary>The subscription has ended.</summary>
internal sealed record UnsubscribeResponse : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Unsubscribed;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
    }

    internal static UnsubscribeResponse Read(ref PayloadReader reader) => new();
}

/// <summary>
/// Sent by the agent to a subscribed session: a connection (or, on a filtered port, one HTTP request and its
/// exchange) for the session's app. The session answers <see cref="IncomingConnectionResponse"/> and the request's
/// id becomes a byte stream: what the pod's client sent, one way; what the session's app answers, the other (dropped
/// by the agent in <see cref="IncomingMode.Mirror"/>).
/// </summary>
/// <param name="Port">The pod port the traffic came to.</param>
/// <param name="Mode">Whether the session serves it or gets a copy.</param>
/// <param name="Client">The client's address, as the pod saw it.</param>
/// <param name="Destination">The address and port the client connected to in the pod.</param>
internal sealed record IncomingConnectionRequest(ushort Port, IncomingMode Mode, IPEndPoint Client, IPEndPoint Destination) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.IncomingConnection;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteUInt16(Port);
        writer.WriteByte((byte)Mode);
        writer.WriteEndPoint(Client);
        writer.WriteEndPoint(Destination);
    }

    internal static IncomingConnectionRequest Read(ref PayloadReader reader)
    {
        var port = reader.ReadUInt16();
        var mode = IncomingModes.Read(ref reader);
        return new IncomingConnectionRequest(port, mode, reader.ReadEndPoint(), reader.ReadEndPoint());
    }
}

/// <summary>The session took the connection: the stream is open.</summary>
internal sealed record IncomingConnectionResponse : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.IncomingConnected;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
    }

    internal static IncomingConnectionResponse Read(ref PayloadReader reader) => new();
}
