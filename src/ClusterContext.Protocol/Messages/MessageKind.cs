namespace ClusterContext.Protocol.Messages;

/// <summary>Identifies a message's type on the wire; the numeric values are part of the wire format.</summary>
public enum MessageKind : ushort
{
    /// <summary><see cref="HelloMessage"/>.</summary>
    Hello = 1,
    /// <summary><see cref="WelcomeMessage"/>.</summary>
    Welcome = 2,
    /// <summary><see cref="PingRequest"/>.</summary>
    Ping = 10,
    /// <summary><see cref="PingResponse"/>.</summary>
    Pong = 11,
    /// <summary><see cref="GetEnvironmentRequest"/>.</summary>
    GetEnvironment = 20,
    /// <summary><see cref="EnvironmentResponse"/>.</summary>
    Environment = 21,
    /// <summary><see cref="GetMountsRequest"/>.</summary>
    GetMounts = 22,
    /// <summary><see cref="MountsResponse"/>.</summary>
    Mounts = 23,
    /// <summary><see cref="StatRequest"/>.</summary>
    Stat = 30,
    /// <summary><see cref="StatResponse"/>.</summary>
    StatResult = 31,
    /// <summary><see cref="ReadDirectoryRequest"/>.</summary>
    ReadDirectory = 32,
    /// <summary><see cref="ReadDirectoryResponse"/>.</summary>
    DirectoryEntries = 33,
    /// <summary><see cref="ReadLinkRequest"/>.</summary>
    ReadLink = 34,
    /// <summary><see cref="ReadLinkResponse"/>.</summary>
    LinkTarget = 35,
    /// <summary><see cref="OpenReadRequest"/>.</summary>
    OpenRead = 36,
    /// <summary><see cref="OpenReadResponse"/>.</summary>
    OpenedRead = 37,
    /// <summary><see cref="WriteFileRequest"/>.</summary>
    WriteFile = 38,
    /// <summary><see cref="WriteFileResponse"/>.</summary>
    FileWritten = 39,
    /// <summary><see cref="ResolveRequest"/>.</summary>
    Resolve = 40,
    /// <summary><see cref="ResolveResponse"/>.</summary>
    Resolved = 41,
    /// <summary><see cref="GetResolverConfigRequest"/>.</summary>
    GetResolverConfig = 42,
    /// <summary><see cref="ResolverConfigResponse"/>.</summary>
    ResolverConfig = 43,
    /// <summary><see cref="WatchRequest"/>.</summary>
    Watch = 44,
    /// <summary><see cref="WatchResponse"/>.</summary>
    Watching = 45,
    /// <summary><see cref="TcpConnectRequest"/>.</summary>
    TcpConnect = 50,
    /// <summary><see cref="TcpConnectResponse"/>.</summary>
    TcpConnected = 51,
    /// <summary><see cref="UdpOpenRequest"/>.</summary>
    UdpOpen = 52,
    /// <summary><see cref="UdpOpenResponse"/>.</summary>
    UdpOpened = 53,
}
