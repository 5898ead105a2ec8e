using System.Net;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// Connects to a service's raw address the ways an app can and reports what each socket says its peer and its own
/// address are, as "api=remote/local;...": logs, pools and client libraries read these.
/// </summary>
internal static class Peers
{
    /// <summary><c>redis-env:PREFIX</c>: PING redis at the <c>PREFIX_SERVICE_HOST</c>:<c>PREFIX_SERVICE_PORT</c> the kubelet injects.</summary>
    public static async Task<string> RedisPingAtAsync(string prefix)
    {
        var (host, port) = FromEnvironment(prefix);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Parse(host), port);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var reply = new byte[7];
        await stream.ReadExactlyAsync(reply);
        return $"{Encoding.ASCII.GetString(reply).TrimEnd()} {client.Client.RemoteEndPoint}";
    }

    /// <summary><c>peers:PREFIX</c> (a service's variables) or <c>peers:HOST|PORT</c>: every connect API, each socket's view.</summary>
    public static async Task<string> ReportAsync(string argument)
    {
        var (host, port) = argument.Contains('|', StringComparison.Ordinal)
            ? (argument[..argument.IndexOf('|', StringComparison.Ordinal)], int.Parse(argument[(argument.IndexOf('|', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            : FromEnvironment(argument);
        var address = IPAddress.Parse(host);
        var endPoint = new IPEndPoint(address, port);
        var results = new List<string>();

        using (var client = new TcpClient())
        {
            client.Connect(address, port);
            results.Add(View("TcpClient.Connect", client.Client));
            results.Add(View("NetworkStream.Socket", client.GetStream().Socket));
        }

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(address, port);
            results.Add(View("TcpClient.ConnectAsync", client.Client));
        }

        results.Add(await WithSocketAsync("Socket.Connect(EndPoint)", s => { s.Connect(endPoint); return Task.CompletedTask; }));
        results.Add(await WithSocketAsync("Socket.Connect(IPAddress,int)", s => { s.Connect(address, port); return Task.CompletedTask; }));
        results.Add(await WithSocketAsync("Socket.ConnectAsync(EndPoint)", s => s.ConnectAsync(endPoint)));
        results.Add(await WithSocketAsync("Socket.ConnectAsync(IPAddress,int)", s => s.ConnectAsync(address, port)));
        results.Add(await WithSocketAsync("Socket.ConnectAsync(IPAddress[],int)", s => s.ConnectAsync([address], port)));
        results.Add(await WithSocketAsync("Socket.ConnectAsync(string,int)", s => s.ConnectAsync(host, port)));
        results.Add(await WithSocketAsync("Socket.ConnectAsync(DnsEndPoint)", s => s.ConnectAsync(new DnsEndPoint(host, port))));
        results.Add(await WithSocketAsync("dual-mode Socket.ConnectAsync(EndPoint)", s => s.ConnectAsync(endPoint), dualMode: true));
        results.Add(await WithSocketAsync("Socket.ConnectAsync(SocketAsyncEventArgs)", s => ConnectWithEventArgsAsync(e => s.ConnectAsync(e), endPoint)));

        Socket? connected = null;
        var seenInHandler = await ConnectWithEventArgsAsync(e => Socket.ConnectAsync(SocketType.Stream, ProtocolType.Tcp, e), endPoint, socket => connected = socket);
        using (connected)
        {
            results.Add($"{View("static Socket.ConnectAsync(SocketAsyncEventArgs)", connected!)} args={seenInHandler}");
        }

        EndPoint? callbackPeer = null;
        using (var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                callbackPeer = socket.RemoteEndPoint;
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        using (var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) })
        {
            try
            {
                using var response = await http.GetAsync($"http://{host}:{port}/");
            }
            catch (HttpRequestException)
            {
                // Not an HTTP server; the connection is what counts.
            }

            results.Add($"HttpClient.ConnectCallback={callbackPeer}");
        }

        return string.Join(";", results);
    }

    /// <summary><c>udp-source:HOST|PORT|NAME</c>: a DNS query for NAME; the address and port the reply came from, per receive API.</summary>
    public static async Task<string> UdpSourceAsync(string argument)
    {
        var parts = argument.Split('|');
        var server = new IPEndPoint(IPAddress.Parse(parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        var results = new List<string>();
        using (var client = new UdpClient(AddressFamily.InterNetwork))
        {
            client.Send(Query(parts[2]), server);
            var from = new IPEndPoint(IPAddress.Any, 0);
            client.Client.ReceiveTimeout = 5000;
            client.Receive(ref from);
            results.Add($"UdpClient.Receive={from}");
        }

        using (var client = new UdpClient(AddressFamily.InterNetwork))
        {
            await client.SendAsync(Query(parts[2]), server);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var reply = await client.ReceiveAsync(timeout.Token);
            results.Add($"UdpClient.ReceiveAsync={reply.RemoteEndPoint}");
        }

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.SendTo(Query(parts[2]), server);
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            socket.ReceiveTimeout = 5000;
            socket.ReceiveFrom(new byte[512], ref from);
            results.Add($"Socket.ReceiveFrom={from}");
        }

        using (var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true })
        {
            socket.SendTo(Query(parts[2]), new IPEndPoint(server.Address.MapToIPv6(), server.Port));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var reply = await socket.ReceiveMessageFromAsync(new byte[512], new IPEndPoint(IPAddress.IPv6Any, 0), timeout.Token);
            results.Add($"dual-mode Socket.ReceiveMessageFromAsync={reply.RemoteEndPoint}");
        }

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.Connect(server);
            socket.Send(Query(parts[2]));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var reply = await socket.ReceiveFromAsync(new byte[512], new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            results.Add($"connected Socket.ReceiveFromAsync={reply.RemoteEndPoint} RemoteEndPoint={socket.RemoteEndPoint}");
        }

        return string.Join(";", results);
    }

    /// <summary>
    /// Argument "IP:PORT": how each async connect API reports a connect to it: SocketAsyncEventArgs through
    /// <see cref="SocketAsyncEventArgs.SocketError"/> (never by throwing), the task APIs by a SocketException.
    /// </summary>
    public static async Task<string> ConnectOutcomesAsync(string argument)
    {
        var destination = IPEndPoint.Parse(argument);
        var results = new List<string>();
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        using (var args = new SocketAsyncEventArgs { RemoteEndPoint = destination })
        {
            var completed = new TaskCompletionSource();
            args.Completed += (_, _) => completed.TrySetResult();
            try
            {
                if (socket.ConnectAsync(args))
                {
                    await completed.Task.WaitAsync(TimeSpan.FromSeconds(10));
                }

                results.Add($"SocketAsyncEventArgs={args.SocketError}");
            }
            catch (SocketException ex)
            {
                results.Add($"SocketAsyncEventArgs=threw {ex.SocketErrorCode}");
            }
        }

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                await socket.ConnectAsync(destination);
                results.Add("ConnectAsync=Success");
            }
            catch (SocketException ex)
            {
                results.Add($"ConnectAsync=threw {ex.SocketErrorCode}");
            }
        }

        return string.Join(";", results);
    }

    private static byte[] Query(string name)
    {
        var query = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            query.Add((byte)label.Length);
            query.AddRange(Encoding.ASCII.GetBytes(label));
        }

        query.AddRange([0x00, 0x00, 0x01, 0x00, 0x01]);
        return [.. query];
    }

    private static (string Host, int Port) FromEnvironment(string prefix) =>
        (Environment.GetEnvironmentVariable($"{prefix}_SERVICE_HOST") ?? throw new InvalidOperationException($"{prefix}_SERVICE_HOST is not set"),
         int.Parse(Environment.GetEnvironmentVariable($"{prefix}_SERVICE_PORT") ?? throw new InvalidOperationException($"{prefix}_SERVICE_PORT is not set"), System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<string> WithSocketAsync(string name, Func<Socket, Task> connect, bool dualMode = false)
    {
        using var socket = dualMode ? new Socket(SocketType.Stream, ProtocolType.Tcp) : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await connect(socket);
        return View(name, socket);
    }

    /// <summary>Connects with event args; returns the args' RemoteEndPoint as the Completed handler saw it.</summary>
    private static async Task<string> ConnectWithEventArgsAsync(Func<SocketAsyncEventArgs, bool> start, EndPoint endPoint, Action<Socket>? connected = null)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var args = new SocketAsyncEventArgs { RemoteEndPoint = endPoint };
        args.Completed += (_, e) =>
        {
            connected?.Invoke(e.ConnectSocket!);
            done.TrySetResult(e.SocketError == SocketError.Success ? $"{e.RemoteEndPoint}" : $"!{e.SocketError}");
        };
        if (!start(args))
        {
            connected?.Invoke(args.ConnectSocket!);
            return args.SocketError == SocketError.Success ? $"{args.RemoteEndPoint}" : $"!{args.SocketError}";
        }

        return await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static string View(string name, Socket socket) => $"{name}={socket.RemoteEndPoint}/{socket.LocalEndPoint}";
}
