using ClusterContext.Agent.Incoming.Http2.Hpack;

namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>What one stream of an <see cref="Http2Connection"/> receives, in the order the peer sent it. Called on the connection's read loop: never blocks.</summary>
internal interface IHttp2StreamSink
{
    /// <summary>The stream has its id (we opened it): called before its headers are sent, so before any answer.</summary>
    void OnOpened(Http2Stream stream);

    void OnHeaders(List<HeaderField> fields, bool endStream);

    /// <summary><paramref name="data"/> is the sink's to keep; the stream's window is given back once it calls <see cref="Http2Connection.Consumed"/>.</summary>
    void OnData(ReadOnlyMemory<byte> data, bool endStream);

    void OnReset(Http2ErrorCode code);

    /// <summary>The connection ended (or refused the stream with GOAWAY) before the stream did.</summary>
    void OnLost(string reason);
}
