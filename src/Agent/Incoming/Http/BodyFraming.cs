namespace ClusterContext.Agent.Incoming.Http;

/// <summary>How a message body is delimited (RFC 9112 section 6).</summary>
internal enum BodyKind
{
    None,
    Length,
    Chunked,
    UntilClose,
}

/// <summary>A message body's delimitation; <see cref="Length"/> counts bytes for <see cref="BodyKind.Length"/>.</summary>
internal readonly record struct BodyFraming(BodyKind Kind, long Length)
{
    public static readonly BodyFraming Empty = new(BodyKind.None, 0);
}
