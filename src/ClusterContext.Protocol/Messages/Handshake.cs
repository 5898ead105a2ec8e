namespace ClusterContext.Protocol.Messages;

/// <summary>The client's first frame.</summary>
/// <param name="Version">Highest protocol version the client speaks.</param>
/// <param name="MinimumVersion">Lowest protocol version the client accepts.</param>
/// <param name="Token">The session token the agent was started with (empty when it has none).</param>
/// <param name="ClientName">Free text for the agent's log (e.g. "ClusterContext/1.0 orders-api").</param>
/// <param name="StreamWindow">Bytes the agent may send on a stream before the client grants credit.</param>
internal sealed record HelloMessage(ushort Version, ushort MinimumVersion, string Token, string ClientName, uint StreamWindow) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Hello;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteUInt16(Version);
        writer.WriteUInt16(MinimumVersion);
        writer.WriteString(Token);
        writer.WriteString(ClientName);
        writer.WriteUInt32(StreamWindow);
    }

    internal static HelloMessage Read(ref PayloadReader reader) =>
        new(reader.ReadUInt16(), reader.ReadUInt16(), reader.ReadString(), reader.ReadString(), reader.ReadUInt32());
}

/// <summary>The agent's answer to <see cref="HelloMessage"/>.</summary>
/// <param name="Version">The protocol version both sides will speak.</param>
/// <param name="AgentVersion">The agent's build version.</param>
/// <param name="SessionId">Identifies the session in the agent's log.</param>
/// <param name="TargetPid">The process whose context the agent serves.</param>
/// <param name="StreamWindow">Bytes the client may send on a stream before the agent grants credit.</param>
internal sealed record WelcomeMessage(ushort Version, string AgentVersion, string SessionId, int TargetPid, uint StreamWindow) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Welcome;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteUInt16(Version);
        writer.WriteString(AgentVersion);
        writer.WriteString(SessionId);
        writer.WriteInt32(TargetPid);
        writer.WriteUInt32(StreamWindow);
    }

    internal static WelcomeMessage Read(ref PayloadReader reader) =>
        new(reader.ReadUInt16(), reader.ReadString(), reader.ReadString(), reader.ReadInt32(), reader.ReadUInt32());
}
