namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>A connection error (RFC 9113 section 5.4.1): the connection ends with GOAWAY and this code.</summary>
internal sealed class Http2ConnectionException(Http2ErrorCode code, string message) : Exception(message)
{
    public Http2ErrorCode Code { get; } = code;
}
