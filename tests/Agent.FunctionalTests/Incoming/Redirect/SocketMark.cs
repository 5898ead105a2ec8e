using System.Net.Sockets;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>SO_MARK on a socket, as the agent sets it on its own connections to the app (needs CAP_NET_ADMIN).</summary>
internal static class SocketMark
{
    private const int SolSocket = 1;
    private const int SoMark = 36;

    public static void Set(Socket socket, uint mark) => socket.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(mark));
}
