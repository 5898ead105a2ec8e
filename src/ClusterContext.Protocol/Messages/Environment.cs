namespace ClusterContext.Protocol.Messages;

/// <summary>Asks for the target process's environment.</summary>
internal sealed record GetEnvironmentRequest : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.GetEnvironment;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
    }

    internal static GetEnvironmentRequest Read(ref PayloadReader reader) => new();
}

/// <summary>The target's environment, in the order of <c>/proc/PID/environ</c>.</summary>
internal sealed record EnvironmentResponse(IReadOnlyList<KeyValuePair<string, string>> Variables) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Environment;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) =>
        writer.WriteList(Variables, static (w, v) =>
        {
            w.WriteString(v.Key);
            w.WriteString(v.Value);
        });

    internal static EnvironmentResponse Read(ref PayloadReader reader) =>
        new(reader.ReadList(static (ref PayloadReader r) => new KeyValuePair<string, string>(r.ReadString(), r.ReadString())));
}
