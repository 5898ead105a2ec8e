using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ClusterContext.Tests.Kube;

/// <summary>An HTTP CONNECT proxy on loopback that resolves names itself and records each tunnel's target.</summary>
internal sealed class ConnectProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, IPAddress?> _resolve;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public ConnectProxy(Func<string, IPAddress?> resolve)
    {
        _resolve = resolve;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<string> Tunnels { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = TunnelAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task TunnelAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var head = new List<byte>();
            while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
            {
                var b = stream.ReadByte();
                if (b < 0)
                {
                    return;
                }

                head.Add((byte)b);
            }

            var request = Encoding.ASCII.GetString([.. head]).Split(' ');
            var (host, port) = (request[1][..request[1].LastIndexOf(':')], int.Parse(request[1][(request[1].LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
            if (request[0] != "CONNECT" || _resolve(host) is not { } address)
            {
                await stream.WriteAsync("HTTP/1.1 502 Bad Gateway\r\n\r\n"u8.ToArray());
                return;
            }

            Tunnels.Enqueue(request[1]);
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(address, port);
            await stream.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray());
            var up = upstream.GetStream();
            await Task.WhenAny(stream.CopyToAsync(up), up.CopyToAsync(stream));
        }
    }
}
