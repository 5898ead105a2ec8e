namespace ClusterContext.Protocol.Messages;

/// <summary>Asks the peer to echo <paramref name="Payload"/>; measures round trips and proves liveness.</summary>
internal sealed record PingRequest(byte[] Payload) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Ping;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteBytes(Payload);

    internal static PingRequest Read(ref PayloadReader reader) => new(reader.ReadBytes());
}

/// <summary>The echo of a <see cref="PingRequest"/>.</summary>
internal sealed record PingResponse(byte[] Payload) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Pong;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteBytes(Payload);

    internal static PingResponse Read(ref PayloadReader reader) => new(reader.ReadBytes());
}
