using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using ClusterContext.Session;
using ClusterContext.Session.Incoming;

namespace ClusterContext.Tests.Session.Incoming;

/// <summary>
/// The session's side of incoming traffic over a real multiplexed connection: a test peer in the agent's place records
/// subscriptions and hands over connections; the app is a real loopback listener.
/// </summary>
public sealed class IncomingServingTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<Message> _seen = new();
    private readonly List<string> _warnings = [];
    private MuxConnection _agentSide = null!;
    private AgentClient _client = null!;
    private RemoteCalls _remote = null!;
    private Func<Message, Message>? _answer;

    public async Task InitializeAsync()
    {
        var toAgent = new Pipe();
        var toSession = new Pipe();
        var accepted = MuxConnection.AcceptAsync(new Duplex(toAgent.Reader, toSession.Writer),
            hello => new WelcomeMessage(ProtocolLimits.Version, "test-agent", "s1", 1, 0), request =>
            {
                _seen.Enqueue(request.Message);
                request.Respond(_answer?.Invoke(request.Message) ?? request.Message switch
                {
                    SubscribeRequest => new SubscribeResponse(""),
                    UnsubscribeRequest => new UnsubscribeResponse(),
                    _ => throw new RemoteException(ErrorCode.UnknownRequest, "no"),
                });
                return Task.CompletedTask;
            });
        _client = await AgentClient.ConnectAsync(new Duplex(toSession.Reader, toAgent.Writer), "token");
        _agentSide = await accepted;
        _remote = new RemoteCalls(_client, TimeSpan.FromSeconds(10), "test-agent");
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _agentSide.DisposeAsync();
    }

    private IncomingSubscriptions Subscriptions(Action<IncomingSettings> configure, params int[] containerPorts)
    {
        var settings = new IncomingSettings { Mode = IncomingTrafficMode.Steal };
        configure(settings);
        var subscriptions = new IncomingSubscriptions(settings, containerPorts, "app", _remote, m => { lock (_warnings) { _warnings.Add(m); } }, _ => { });
        subscriptions.Serve(_client);
        return subscriptions;
    }

    private static Socket Listen(IPAddress address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(address, 0));
        socket.Listen();
        return socket;
    }

    private Task<(IncomingConnectionResponse, MuxStream)> HandOverAsync(int podPort, IncomingMode mode = IncomingMode.Steal) =>
        _agentSide.OpenStreamAsync<IncomingConnectionResponse>(new IncomingConnectionRequest((ushort)podPort, mode,
            new IPEndPoint(IPAddress.Parse("10.0.0.9"), 40000), new IPEndPoint(IPAddress.Parse("10.0.0.5"), podPort)));

    [Fact]
    public void Listening_subscribes_the_mapped_pod_port_once_with_the_mode_and_filter()
    {
        using var v4 = Listen(IPAddress.Loopback);
        var port = ((IPEndPoint)v4.LocalEndPoint!).Port;
        var subscriptions = Subscriptions(s =>
        {
            s.Mode = IncomingTrafficMode.Mirror;
            s.PortMapping[port] = 8080;
            s.HttpFilter = new HttpFilterSettings { Header = "^x-dev: alice$" };
        });

        subscriptions.OnListen(v4);
        subscriptions.OnListen(v4); // Kestrel's localhost: one port, two sockets, one subscription

        var subscribe = Assert.IsType<SubscribeRequest>(Assert.Single(_seen));
        Assert.Equal(new SubscribeRequest(8080, IncomingMode.Mirror, new HttpFilter(HttpFilterKind.Header, "^x-dev: alice$", [])), subscribe);
        Assert.Equal(port, subscriptions.Subscribed[8080]);
    }

    [Fact]
    public async Task A_handed_over_connection_reaches_the_app_byte_for_byte_both_ways_with_half_close()
    {
        using var app = Listen(IPAddress.Loopback);
        var port = ((IPEndPoint)app.LocalEndPoint!).Port;
        var subscriptions = Subscriptions(s => s.PortMapping[port] = 8080);
        subscriptions.OnListen(app);

        // The app answers with the length and hash of what it got: every byte, in order.
        var served = Task.Run(async () =>
        {
            using var connection = await app.AcceptAsync();
            using var received = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await connection.ReceiveAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            // The client's end arrived (half-close); the answer still goes back.
            var answer = Encoding.ASCII.GetBytes($"{received.Length}:{Convert.ToHexString(SHA256.HashData(received.ToArray()))}");
            await connection.SendAsync(answer);
            connection.Shutdown(SocketShutdown.Send);
        });

        var (_, stream) = await HandOverAsync(8080);
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await stream.WriteAsync(payload);
        stream.CompleteWrites();
        using var reply = new MemoryStream();
        await stream.CopyToAsync(reply); // ends when the app's FIN arrived as the end of the stream
        await served;

        Assert.Equal($"{payload.Length}:{Convert.ToHexString(SHA256.HashData(payload))}", Encoding.ASCII.GetString(reply.ToArray()));
    }

    [Fact]
    public async Task Many_connections_at_once_each_get_their_own_app_connection()
    {
        using var app = Listen(IPAddress.Loopback);
        var port = ((IPEndPoint)app.LocalEndPoint!).Port;
        Subscriptions(s => s.PortMapping[port] = 8080).OnListen(app);
        var serving = Task.Run(async () =>
        {
            while (true)
            {
                Socket connection;
                try
                {
                    connection = await app.AcceptAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (connection)
                    {
                        var buffer = new byte[4096];
                        int read;
                        while ((read = await connection.ReceiveAsync(buffer)) > 0)
                        {
                            await connection.SendAsync(buffer.AsMemory(0, read));
                        }

                        connection.Shutdown(SocketShutdown.Send);
                    }
                });
            }
        });

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            var (_, stream) = await HandOverAsync(8080);
            var payload = Encoding.ASCII.GetBytes($"request {i} " + new string('x', i * 1000));
            await stream.WriteAsync(payload);
            stream.CompleteWrites();
            using var reply = new MemoryStream();
            await stream.CopyToAsync(reply);
            await stream.DisposeAsync();
            return reply.ToArray().AsSpan().SequenceEqual(payload);
        }));

        Assert.All(results, Assert.True);
        app.Close();
        await serving;
    }

    [Fact]
    public async Task A_closed_listener_refuses_the_connection_so_the_agent_serves_it_and_the_subscription_ends()
    {
        var app = Listen(IPAddress.Loopback);
        var port = ((IPEndPoint)app.LocalEndPoint!).Port;
        var subscriptions = Subscriptions(s => s.PortMapping[port] = 8080);
        subscriptions.OnListen(app);
        app.Dispose();

        var refused = await Assert.ThrowsAsync<RemoteException>(() => HandOverAsync(8080));

        Assert.Equal(ErrorCode.ConnectionRefused, refused.Code);
        Assert.Empty(subscriptions.Subscribed);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!_seen.OfType<UnsubscribeRequest>().Any(u => u.Port == 8080))
        {
            await Task.Delay(20, timeout.Token); // waits for the background unsubscribe; fails the test at the deadline
        }
    }

    [Fact]
    public async Task A_port_without_subscription_is_not_found_and_a_refused_subscription_is_a_warning_naming_the_reason()
    {
        // Before the session serves incoming traffic at all, the agent is told so (and serves the pod's app).
        Assert.Equal(ErrorCode.UnknownRequest, (await Assert.ThrowsAsync<RemoteException>(() => HandOverAsync(8080))).Code);

        _answer = m => m is SubscribeRequest ? throw new RemoteException(ErrorCode.InvalidArgument, "session s0 filters pod port 8080; an unfiltered steal is refused") : new UnsubscribeResponse();
        using var app = Listen(IPAddress.Loopback);
        var port = ((IPEndPoint)app.LocalEndPoint!).Port;
        var subscriptions = Subscriptions(s => s.PortMapping[port] = 8080);

        subscriptions.OnListen(app); // the app's Listen is not failed by it
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<RemoteException>(() => HandOverAsync(8080))).Code);

        Assert.Empty(subscriptions.Subscribed);
        Assert.Contains(_warnings, w => w.Contains("pod port 8080", StringComparison.Ordinal) && w.Contains("session s0 filters pod port 8080", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_IPv6_only_listener_is_reached_over_IPv6_loopback()
    {
        using var app = Listen(IPAddress.IPv6Any);
        Assert.False(app.DualMode);
        var port = ((IPEndPoint)app.LocalEndPoint!).Port;
        Subscriptions(s => s.PortMapping[port] = 8080).OnListen(app);
        var accepted = app.AcceptAsync();

        var (_, stream) = await HandOverAsync(8080);

        using var connection = await accepted;
        Assert.Equal(IPAddress.IPv6Loopback, ((IPEndPoint)connection.RemoteEndPoint!).Address);
        await stream.DisposeAsync();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
