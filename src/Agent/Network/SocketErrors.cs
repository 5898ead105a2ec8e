using System.Net.Sockets;
using ClusterContext.Protocol;

namespace ClusterContext.Agent.Network;

internal static class SocketErrors
{
    public static RemoteException ToException(SocketException error, string what) => new(
        error.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => ErrorCode.ConnectionRefused,
            SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.NetworkDown => ErrorCode.Unreachable,
            SocketError.TimedOut => ErrorCode.TimedOut,
            SocketError.ConnectionReset or SocketError.ConnectionAborted => ErrorCode.ConnectionReset,
            _ => ErrorCode.SocketError,
        },
        $"{what}: {error.Message} ({error.SocketErrorCode}).");
}
