namespace ClusterContext.Agent.Incoming.Http2;

/// <summary>One stream of one <see cref="Http2Connection"/>: its id, what we may still send on it, who gets what arrives.</summary>
internal sealed class Http2Stream(int id, long sendWindow, IHttp2StreamSink sink)
{
    public int Id { get; } = id;

    public FlowWindow SendWindow { get; } = new(sendWindow);

    public IHttp2StreamSink Sink { get; set; } = sink;

    /// <summary>The peer sent END_STREAM or RST_STREAM: no more window to give back.</summary>
    public bool RemoteEnded { get; set; }

    /// <summary>We sent END_STREAM or RST_STREAM.</summary>
    public bool LocalEnded { get; set; }
}
