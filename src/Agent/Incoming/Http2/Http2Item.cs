using ClusterContext.Agent.Incoming.Http2.Hpack;

namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>One thing a stream carries, queued between the connection it came from and the one it goes to.</summary>
internal sealed record Http2Item(List<HeaderField>? Fields, ReadOnlyMemory<byte> Data, bool End)
{
    /// <summary>Set for RST_STREAM: the stream ends with this code.</summary>
    public Http2ErrorCode? Reset { get; init; }

    /// <summary>Set when the connection the stream came on ended first.</summary>
    public string? Lost { get; init; }

    public static Http2Item ResetWith(Http2ErrorCode code) => new(null, default, true) { Reset = code };

    public static Http2Item LostBy(string reason) => new(null, default, true) { Lost = reason };
}
