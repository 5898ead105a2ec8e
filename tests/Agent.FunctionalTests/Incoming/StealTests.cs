using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

[Collection(SandboxGroup.Name)]
public class StealTests(SandboxAgentFixture fixture) : IncomingTestBase(fixture)
{
    [Fact]
    public async Task A_whole_port_steal_carries_bytes_both_ways_and_each_sides_half_close()
    {
        var port = NewPodPort();
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", async (_, stream) =>
        {
            // Reads the client's bytes to their end (its half close), then answers and closes its own side.
            var received = new MemoryStream();
            await stream.CopyToAsync(received);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"got {received.Length} bytes: {Encoding.ASCII.GetString(received.ToArray())}"));
            stream.CompleteWrites();
        });
        await session.SubscribeAsync(port, IncomingMode.Steal);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(await ListenerAsync(port));
        await client.SendAsync("\u0001not http at all"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        var answer = await ReadToEndAsync(client);
        Assert.Equal("got 16 bytes: \u0001not http at all", answer);

        var request = Assert.Single(session.Requests);
        Assert.Equal(port, request.Port);
        Assert.Equal(IncomingMode.Steal, request.Mode);
        Assert.Equal(port, request.Destination.Port);
        Assert.Equal(((IPEndPoint)client.LocalEndPoint!).Port, request.Client.Port);
    }

    [Fact]
    public async Task Behind_a_kernel_redirect_the_session_is_told_the_port_the_client_meant()
    {
        var port = NewPodPort();
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", async (_, stream) =>
        {
            await stream.WriteAsync("stolen"u8.ToArray());
            stream.CompleteWrites();
        });
        await session.SubscribeAsync(port, IncomingMode.Steal);
        var listener = await ListenerAsync(port);

        // A plain nft redirect stands in for the agent's own (another part), so SO_ORIGINAL_DST has something to report;
        // from another port than the subscribed one, so the answer cannot come from the direct-connection fallback.
        var redirected = NewPodPort();
        var table = $"cctest_{port}";
        await NftAsync("add", "table", "ip", table);
        try
        {
            await NftAsync("add", "chain", "ip", table, "pre", "{", "type", "nat", "hook", "prerouting", "priority", "-100", ";", "}");
            await NftAsync("add", "rule", "ip", table, "pre", "tcp", "dport", $"{redirected}", "redirect", "to", $":{listener.Port}");
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(Fixture.Sandbox.PodIP, redirected));
            Assert.Equal("stolen", await ReadToEndAsync(client));
            var request = Assert.Single(session.Requests);
            Assert.Equal(port, request.Port);
            Assert.Equal(new IPEndPoint(Fixture.Sandbox.PodIP, redirected), request.Destination);
        }
        finally
        {
            await NftAsync("delete", "table", "ip", table);
        }
    }

    private async Task NftAsync(params string[] arguments)
    {
        var result = await Fixture.Sandbox.RunInPodAsync("nft", arguments);
        Assert.True(result.ExitCode == 0, $"nft {string.Join(' ', arguments)}: {result.StandardError}");
    }

    [Fact]
    public async Task A_filtered_keep_alive_connection_alternates_between_the_local_app_and_the_original_in_order()
    {
        var port = NewPodPort();
        await using var steal = await StealForAliceAsync(port);
        var session = steal.Session;
        Assert.Equal("", steal.Notice);
        var url = $"http://{steal.Listener}";

        var (exit, output, error) = await RunAsync("curl", "-sS", "-v",
            "-H", "X-Dev: alice", "-w", "\n", $"{url}/one",
            "--next", "-w", "\n", $"{url}/two",
            "--next", "-H", "X-Dev: alice", "-w", "\n", $"{url}/three",
            "--next", "-w", "\n", $"{url}/four");
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("local GET /one dev=alice", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("original GET /two dev=-", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("local GET /three dev=alice", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("original GET /four dev=-", lines[3], StringComparison.Ordinal);
        Assert.Equal(3, Regex.Count(error, "e-?using existing connection", RegexOptions.IgnoreCase));

        // The original app saw one pooled upstream connection for both of its requests; the local app one connection
        // too, the session's stream kept from alice's first request for her next one on the same client connection.
        Assert.Equal(From(lines[1]), From(lines[3]));
        Assert.Equal(From(lines[0]), From(lines[2]));
        Assert.Single(session.Requests);
    }

    [Fact]
    public async Task Each_client_connection_keeps_its_own_connection_to_the_original_app()
    {
        var port = NewPodPort();
        await using var steal = await StealForAliceAsync(port);
        var (session, listener) = (steal.Session, steal.Listener);

        // Two keep-alive clients taking turns, a matched request between: the app sees each client as one connection
        // of its own, as it would without the agent (a pool shared between them would hand both the same one).
        var script = $$"""
            import http.client
            a = http.client.HTTPConnection("{{listener.Address}}", {{listener.Port}})
            b = http.client.HTTPConnection("{{listener.Address}}", {{listener.Port}})
            for c, path, headers in ((a, "/a1", {}), (b, "/b1", {}), (a, "/a2", {"X-Dev": "alice"}), (a, "/a3", {}), (b, "/b2", {})):
                c.request("GET", path, headers=headers)
                print(c.getresponse().read().decode())
            """;
        var (exit, output, error) = await RunAsync("python3", "-c", script);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("original GET /a1", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("local GET /a2 dev=alice", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("original GET /b2", lines[4], StringComparison.Ordinal);
        Assert.Equal(From(lines[0]), From(lines[3]));
        Assert.Equal(From(lines[1]), From(lines[4]));
        Assert.NotEqual(From(lines[0]), From(lines[1]));
    }

    [Fact]
    public async Task Chunked_bodies_and_chunked_responses_reach_the_right_side_whole()
    {
        var port = NewPodPort();
        await using var steal = await StealForAliceAsync(port);
        var (session, listener) = (steal.Session, steal.Listener);

        // Python's http.client on one connection: chunked uploads both ways, a chunked response, Expect: 100-continue.
        var script = $$"""
            import http.client, hashlib
            c = http.client.HTTPConnection("{{listener.Address}}", {{listener.Port}})
            body = bytes(range(256)) * 300
            sha = hashlib.sha256(body).hexdigest()[:16]
            for dev, path in (("alice", "/upload"), (None, "/upload"), ("alice", "/chunked"), (None, "/chunked")):
                headers = {"X-Dev": dev} if dev else {}
                c.request("POST", path, body=iter([body[:1000], body[1000:50000], body[50000:]]), headers=headers, encode_chunked=True)
                r = c.getresponse()
                print(r.read().decode())
            c.request("PUT", "/expect", body=body, headers={"X-Dev": "alice", "Expect": "100-continue"})
            print(c.getresponse().read().decode())
            print("sha=" + sha)
            """;
        var (exit, output, error) = await RunAsync("python3", "-c", script);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var sha = lines[^1];
        Assert.StartsWith("local POST /upload dev=alice len=76800 " + sha, lines[0], StringComparison.Ordinal);
        Assert.StartsWith("original POST /upload dev=- len=76800 " + sha, lines[1], StringComparison.Ordinal);
        Assert.StartsWith("local POST /chunked dev=alice len=76800 " + sha, lines[2], StringComparison.Ordinal);
        Assert.StartsWith("original POST /chunked dev=- len=76800 " + sha, lines[3], StringComparison.Ordinal);
        Assert.StartsWith("local PUT /expect dev=alice len=76800 " + sha, lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_matching_WebSocket_upgrade_is_bridged_to_the_local_app_and_an_unmatched_one_to_the_original()
    {
        var port = NewPodPort();
        await using var steal = await StealForAliceAsync(port);
        var (session, listener) = (steal.Session, steal.Listener);

        foreach (var (dev, expected) in new[] { ("X-Dev: alice\r\n", "local"), ("", "original") })
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener);
            await using var stream = new NetworkStream(client);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"GET /chat HTTP/1.1\r\nHost: orders\r\n{dev}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"));
            var head = await ReadHeadAsync(stream);
            Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
            foreach (var word in new[] { "ping", "second frame" })
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(word));
                var echo = new byte[expected.Length + 1 + word.Length];
                await stream.ReadExactlyAsync(echo);
                Assert.Equal($"{expected}:{word.ToUpperInvariant()}", Encoding.ASCII.GetString(echo));
            }
        }
    }

    [Fact]
    public async Task Bytes_that_are_not_HTTP_on_a_filtered_port_reach_the_app_untouched()
    {
        var port = NewPodPort();
        using var echo = Fixture.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, port));
        echo.Listen();
        var serving = Task.Run(async () =>
        {
            using var accepted = await echo.AcceptAsync();
            var buffer = new byte[4096];
            int read;
            while ((read = await accepted.ReceiveAsync(buffer)) > 0)
            {
                await accepted.SendAsync(buffer.AsMemory(0, read));
            }

            accepted.Shutdown(SocketShutdown.Send);
        });
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", 1);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(await ListenerAsync(port));
        byte[] tls = [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 0, 255];
        await client.SendAsync(tls);
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(tls, Encoding.Latin1.GetBytes(await ReadToEndAsync(client)));
        await serving;
        Assert.Empty(session.Requests);
    }

    [Fact]
    public async Task Two_sessions_with_different_headers_each_get_theirs_and_the_rest_reaches_the_original()
    {
        var port = NewPodPort();
        await using var original = await IncomingApp.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var aliceApp = await IncomingApp.StartLocalAsync("alice-app");
        await using var bobApp = await IncomingApp.StartLocalAsync("bob-app");
        await using var alice = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", aliceApp.Port);
        await using var bob = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "bob", bobApp.Port);
        Assert.Equal("", (await alice.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"))).Notice);
        Assert.Equal("", (await bob.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: bob$"))).Notice);
        var listener = await ListenerAsync(port);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2 });
        var requests = Enumerable.Range(0, 30).Select(async i =>
        {
            var dev = (i % 3) switch { 0 => "alice", 1 => "bob", _ => null };
            using var message = new HttpRequestMessage(HttpMethod.Get, $"http://{listener}/r{i}");
            if (dev is not null)
            {
                message.Headers.Add("X-Dev", dev);
            }

            using var response = await http.SendAsync(message);
            return (dev, body: await response.Content.ReadAsStringAsync());
        });
        foreach (var (dev, body) in await Task.WhenAll(requests))
        {
            Assert.StartsWith(dev switch { "alice" => "alice-app", "bob" => "bob-app", _ => "original" } + " GET /r", body, StringComparison.Ordinal);
        }

        // A session's stream serves the client connection's following requests for the same session: at most one
        // stream per request, at least one per session.
        Assert.InRange(alice.Requests.Count, 1, 10);
        Assert.InRange(bob.Requests.Count, 1, 10);
    }

    [Fact]
    public async Task An_unfiltered_steal_of_a_port_another_session_filters_is_refused_naming_that_session()
    {
        var port = NewPodPort();
        await using var alice = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice-laptop", 1);
        await using var bob = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "bob-laptop", 1);
        await alice.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        var error = await Assert.ThrowsAsync<RemoteException>(() => bob.SubscribeAsync(port, IncomingMode.Steal));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains("alice-laptop", error.Message, StringComparison.Ordinal);

        // An overlapping filter is accepted, and told who comes first.
        var overlap = await bob.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: "));
        Assert.Contains("alice-laptop", overlap.Notice, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_session_is_lost_its_requests_go_to_the_original_app_on_the_same_connection()
    {
        var port = NewPodPort();
        await using var original = await IncomingApp.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await IncomingApp.StartLocalAsync("local");
        var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        var listener = await ListenerAsync(port);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 });
        http.DefaultRequestHeaders.Add("X-Dev", "alice");
        Assert.StartsWith("local GET /before", await http.GetStringAsync($"http://{listener}/before"), StringComparison.Ordinal);

        await session.DisposeAsync();
        await WaitForLogAsync(line => line.Contains($"incoming port {port}: no subscription left", StringComparison.Ordinal));
        Assert.StartsWith("original GET /after dev=alice", await http.GetStringAsync($"http://{listener}/after"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stolen_connection_whose_session_goes_mid_upload_is_closed_not_reset()
    {
        var port = NewPodPort();
        var accepted = new TaskCompletionSource();
        var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", async (_, _) =>
        {
            // Takes the connection and reads nothing: what the client sends beyond the stream's window stays unread
            // in the agent's socket, as with a local app that stops while a client uploads.
            accepted.TrySetResult();
            await Task.Delay(Timeout.Infinite, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        });
        await session.SubscribeAsync(port, IncomingMode.Steal);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(await ListenerAsync(port));
        var upload = client.SendAsync(new byte[2 * ClusterContext.Protocol.Framing.ProtocolLimits.DefaultStreamWindow]);
        await accepted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await session.DisposeAsync();

        // A close with unread bytes would be a reset, failing the upload or the read with "Connection reset by peer".
        await upload.WaitAsync(TimeSpan.FromSeconds(10));
        var answer = await client.ReceiveAsync(new byte[1]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, answer);
    }


    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        // Not a NetworkStream: it refuses a socket already shut down for sending.
        var all = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }

        return Encoding.Latin1.GetString(all.ToArray());
    }

    private static async Task<string> ReadHeadAsync(Stream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one);
            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
