namespace ClusterContext.Protocol.Framing;

/// <summary>The kind of a frame; the numeric values are part of the wire format.</summary>
internal enum FrameType : byte
{
    /// <summary>Client's first frame: version, token, limits.</summary>
    Hello = 1,
    /// <summary>Agent's answer to <see cref="Hello"/>.</summary>
    Welcome = 2,
    /// <summary>A request; the frame id is the request id.</summary>
    Request = 3,
    /// <summary>The successful answer to a request.</summary>
    Response = 4,
    /// <summary>A failed request (id of the request) or a fatal connection error (id 0).</summary>
    Error = 5,
    /// <summary>The sender no longer wants the answer to a request.</summary>
    Cancel = 6,
    /// <summary>Bytes of a stream.</summary>
    Data = 7,
    /// <summary>The receiver of a stream allows the sender more bytes.</summary>
    Credit = 8,
    /// <summary>The sender will send no more bytes on a stream (half close).</summary>
    End = 9,
    /// <summary>A stream is aborted in both directions.</summary>
    Reset = 10,
    /// <summary>Orderly end of the connection.</summary>
    Goodbye = 11,
}
