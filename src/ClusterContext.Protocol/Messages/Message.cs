namespace ClusterContext.Protocol.Messages;

/// <summary>A request or response carried in a frame's payload as a 16-bit kind followed by its body.</summary>
internal abstract record Message
{
    /// <summary>The kind written in front of the body.</summary>
    public abstract MessageKind Kind { get; }

    /// <summary>Writes the body (without the kind).</summary>
    public abstract void WriteBody(PayloadWriter writer);
}
