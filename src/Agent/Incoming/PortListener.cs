using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// The sockets a pod port's redirect points at: IPv4 and IPv6 on one port number (the redirect names one port for
/// both families), each a plain socket of its family so SO_ORIGINAL_DST is asked at the level of the connection's family.
/// </summary>
internal sealed class PortListener : IDisposable
{
    private const int Backlog = 1024;
    private readonly Socket _v4;
    private readonly Socket? _v6;
    private readonly CancellationTokenSource _stop = new();

    private PortListener(Socket v4, Socket? v6)
    {
        _v4 = v4;
        _v6 = v6;
        Port = (ushort)((IPEndPoint)v4.LocalEndPoint!).Port;
    }

    public ushort Port { get; }

    public static PortListener Create()
    {
        for (var attempt = 0; ; attempt++)
        {
            var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                v4.Bind(new IPEndPoint(IPAddress.Any, 0));
                v4.Listen(Backlog);
            }
            catch
            {
                v4.Dispose();
                throw;
            }

            // The IPv6 port of that number may be someone else's: then another number, a few times.
            var v6 = TryListenV6(((IPEndPoint)v4.LocalEndPoint!).Port, out var taken);
            if (v6 is null && taken && attempt < 8)
            {
                v4.Dispose();
                continue;
            }

            return new PortListener(v4, v6);
        }
    }

    /// <summary>Accepts until disposed, handing each connection to <paramref name="serve"/>.</summary>
    public void Start(Func<Socket, CancellationToken, Task> serve)
    {
        _ = AcceptAsync(_v4, serve);
        if (_v6 is not null)
        {
            _ = AcceptAsync(_v6, serve);
        }
    }

    private async Task AcceptAsync(Socket listener, Func<Socket, CancellationToken, Task> serve)
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listener.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // the client gave up before the accept (ECONNABORTED): the next one is unaffected
            }

            _ = serve(accepted, CancellationToken.None);
        }
    }

    private static Socket? TryListenV6(int port, out bool taken)
    {
        taken = false;
        var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            v6.DualMode = false;
            v6.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            v6.Listen(Backlog);
            return v6;
        }
        catch (SocketException ex)
        {
            v6.Dispose();
            taken = ex.SocketErrorCode == SocketError.AddressAlreadyInUse;
            return null; // a pod without IPv6: IPv4 alone
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _v4.Dispose();
        _v6?.Dispose();
    }
}
