namespace ClusterContext.Protocol;

/// <summary>The peer broke the protocol; the connection is closed.</summary>
internal sealed class ProtocolException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ProtocolException(ErrorCode code, string message)
        : base(message) => Code = code;

    /// <summary>What was wrong.</summary>
    public ErrorCode Code { get; }
}
