namespace ClusterContext.Protocol;

/// <summary>Error codes carried by error and reset frames; the numeric values are part of the wire format.</summary>
internal enum ErrorCode : ushort
{
    /// <summary>No error.</summary>
    None = 0,
    /// <summary>The peer broke the protocol (malformed, truncated or unexpected frame).</summary>
    ProtocolError = 1,
    /// <summary>A frame is larger than allowed.</summary>
    FrameTooLarge = 2,
    /// <summary>The peers have no protocol version in common.</summary>
    UnsupportedVersion = 3,
    /// <summary>The session token is missing or wrong.</summary>
    Unauthorized = 4,
    /// <summary>A stream sent more bytes than it was granted.</summary>
    FlowControlError = 5,
    /// <summary>Too many streams or requests are open on the connection.</summary>
    TooManyStreams = 6,
    /// <summary>The request was cancelled.</summary>
    Cancelled = 7,
    /// <summary>The request kind is not known to the peer.</summary>
    UnknownRequest = 8,
    /// <summary>An argument of the request is invalid.</summary>
    InvalidArgument = 9,
    /// <summary>Unexpected failure inside the peer.</summary>
    Internal = 10,

    /// <summary>No such file or directory.</summary>
    NotFound = 100,
    /// <summary>Permission denied.</summary>
    AccessDenied = 101,
    /// <summary>A path component is not a directory.</summary>
    NotADirectory = 102,
    /// <summary>The path is a directory.</summary>
    IsADirectory = 103,
    /// <summary>The path is not a symbolic link.</summary>
    NotASymlink = 104,
    /// <summary>The path leaves the container's root.</summary>
    PathOutsideRoot = 105,
    /// <summary>Too many levels of symbolic links.</summary>
    TooManyLinks = 106,
    /// <summary>Another I/O error.</summary>
    IOError = 107,

    /// <summary>The name does not exist (NXDOMAIN or no records).</summary>
    NameNotFound = 200,
    /// <summary>The resolver failed (server failure, timeout).</summary>
    NameResolutionFailed = 201,
    /// <summary>The connection was refused.</summary>
    ConnectionRefused = 202,
    /// <summary>The host or network is unreachable.</summary>
    Unreachable = 203,
    /// <summary>The operation timed out.</summary>
    TimedOut = 204,
    /// <summary>The connection was reset.</summary>
    ConnectionReset = 205,
    /// <summary>Another socket error.</summary>
    SocketError = 206,
}
