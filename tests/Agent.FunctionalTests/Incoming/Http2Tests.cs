using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>
/// HTTP/2 with prior knowledge (as gRPC speaks it) through the real agent: curl (nghttp2) as the pod's client, Kestrel
/// as the pod's app and as the session's local app, each stream of one connection routed on its own.
/// </summary>
[Collection(SandboxGroup.Name)]
public partial class Http2Tests(SandboxAgentFixture fixture) : IncomingTestBase(fixture)
{
    // curl 7.88 (Debian 12) fails a second stream on one prior-knowledge connection with "Error in the HTTP2 framing
    // layer" against Kestrel itself, so several streams on one connection come from .NET's HttpClient, and curl
    // (nghttp2, Huffman-coded headers) makes one stream per connection.
    [Fact]
    public async Task Curl_speaks_HTTP2_so_these_tests_test_it()
    {
        var (exit, output, _) = await RunAsync("curl", "-V");
        Assert.Equal(0, exit);
        Assert.Matches(@"(?m)^Features:.* HTTP2( |$)", output);
    }

    [Fact]
    public async Task Streams_of_one_connection_go_each_to_the_side_their_headers_choose()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        using var client = new Http2Client(await ListenerAsync(port));

        // Three rounds of eight concurrent requests, alice's and others' mixed, all streams of one connection.
        var answers = new List<(string Path, string Answer)>();
        for (var round = 0; round < 3; round++)
        {
            var paths = Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? $"/a{round}{i}" : $"/o{round}{i}").ToArray();
            var texts = await Task.WhenAll(paths.Select(p => client.GetStringAsync(p, p.StartsWith("/a", StringComparison.Ordinal) ? "alice" : null)));
            answers.AddRange(paths.Zip(texts));
        }

        var froms = new Dictionary<string, HashSet<string>> { ["local"] = [], ["original"] = [] };
        foreach (var (path, answer) in answers)
        {
            var alice = path.StartsWith("/a", StringComparison.Ordinal);
            var match = Regex.Match(answer, $@"^(local|original) GET {path} dev=(\S+) .* from=(\d+) proto=HTTP/2$");
            Assert.True(match.Success, answer);
            Assert.Equal(alice ? "local" : "original", match.Groups[1].Value);
            Assert.Equal(alice ? "alice" : "-", match.Groups[2].Value);
            froms[match.Groups[1].Value].Add(match.Groups[3].Value);
        }

        Assert.Equal(1, client.Connections);
        Assert.Single(froms["local"]); // one upstream connection per side carried all of its streams
        Assert.Single(froms["original"]);
        Assert.Single(session.Requests);
    }

    [Fact]
    public async Task Bodies_of_several_megabytes_cross_both_ways_on_both_sides_under_flow_control()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        var listener = await ListenerAsync(port);

        const int size = 3 * 1024 * 1024 + 17;
        var upload = new byte[size];
        Random.Shared.NextBytes(upload);
        var uploadSha = Convert.ToHexStringLower(SHA256.HashData(upload))[..16];
        var expected = Convert.ToHexStringLower(SHA256.HashData(Enumerable.Range(0, size).Select(i => (byte)(i % 251)).ToArray()));

        // Two at a time on one connection (they share its windows), each side's, twice.
        using var client = new Http2Client(listener);
        for (var round = 0; round < 2; round++)
        {
            var results = await Task.WhenAll(client.PostAsync($"/big?n={size}", "alice", upload), client.PostAsync($"/big?n={size}", null, upload));
            foreach (var ((app, got, body), want) in results.Zip(["local", "original"]))
            {
                Assert.Equal(want, app);
                Assert.Equal($"len={size} sha={uploadSha}", got);
                Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(body)));
            }
        }

        Assert.Equal(1, client.Connections);

        // And from curl (nghttp2), one stream of its own connection.
        var work = Directory.CreateTempSubdirectory("h2-body-");
        try
        {
            var file = Path.Combine(work.FullName, "upload");
            await File.WriteAllBytesAsync(file, upload);
            var (exit, output, error) = await RunAsync("curl", "-sS", "--http2-prior-knowledge", "-H", "X-Dev: alice", "--data-binary", $"@{file}",
                "-D", Path.Combine(work.FullName, "head"), "-o", Path.Combine(work.FullName, "body"), $"http://{listener}/big?n={size}");
            Assert.True(exit == 0, error + output);
            var head = await File.ReadAllTextAsync(Path.Combine(work.FullName, "head"));
            Assert.Contains("x-app: local", head, StringComparison.Ordinal);
            Assert.Contains($"x-got: len={size} sha={uploadSha}", head, StringComparison.Ordinal);
            Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(work.FullName, "body")))));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Trailers_pass_through_from_either_side_as_gRPC_status_needs()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        var listener = await ListenerAsync(port);

        foreach (var (dev, data, app) in new[] { ("alice", "12345", "local"), (null, "123", "original") })
        {
            string[] header = dev is null ? [] : ["-H", $"X-Dev: {dev}"];
            var (exit, output, error) = await RunAsync("curl", ["-sS", "-v", "--http2-prior-knowledge", .. header, "-d", data, $"http://{listener}/trailers"]);
            Assert.True(exit == 0, error);
            Assert.StartsWith($"{app} POST /trailers dev={dev ?? "-"} len={data.Length} ", output, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^< grpc-status: 0\r?$", error);
            Assert.Matches($@"(?m)^< x-got-len: {data.Length}\r?$", error);
        }

        using var client = new Http2Client(listener);
        var (trailers, text) = await client.TrailersAsync("/trailers", "alice");
        Assert.StartsWith("local GET /trailers dev=alice", text, StringComparison.Ordinal);
        Assert.Equal("0", trailers["grpc-status"]);
    }

    [Fact]
    public async Task An_interim_100_Continue_reaches_the_client_before_the_body_goes_up()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        using var client = new Http2Client(await ListenerAsync(port));

        // The client holds the body back until the app's 100 Continue arrives (or 30 s pass).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        foreach (var (dev, app) in new[] { ("alice", "local"), ((string?)null, "original") })
        {
            var answer = await client.PostStreamAsync("/expect", dev, new ByteArrayContent("waited"u8.ToArray()), timeout.Token, expectContinue: true);
            Assert.StartsWith($"{app} POST /expect dev={dev ?? "-"} len=6 ", answer, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_stream_matched_by_a_session_that_refuses_it_goes_to_the_original()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", 1);
        session.RefuseConnections = true;
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        using var client = new Http2Client(await ListenerAsync(port));

        Assert.StartsWith("original GET /a dev=alice", await client.GetStringAsync("/a", "alice"), StringComparison.Ordinal);
        Assert.Single(session.Requests);
        await WaitForLogAsync(line => line.Contains("is unavailable", StringComparison.Ordinal) && line.Contains("the original app serves instead", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mirrored_stream_is_answered_by_the_original_and_copied_to_the_local_app()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Mirror, IncomingSessionDouble.Header("^x-dev: alice$"));
        var url = $"http://{await ListenerAsync(port)}";

        var (exit, output, error) = await RunAsync("curl", "-sS", "--http2-prior-knowledge", "-H", "X-Dev: alice", "-d", "mirrored", "-w", "\n", $"{url}/m1");
        Assert.True(exit == 0, error);
        (exit, var other, error) = await RunAsync("curl", "-sS", "--http2-prior-knowledge", "-w", "\n", $"{url}/m2");
        Assert.True(exit == 0, error);
        output += other;
        Assert.Matches(@"(?m)^original POST /m1 dev=alice len=8 ", output);
        Assert.Matches(@"(?m)^original GET /m2 dev=- len=0 ", output);
        Assert.DoesNotContain("local", output, StringComparison.Ordinal);

        var sha = Convert.ToHexStringLower(SHA256.HashData("mirrored"u8.ToArray()))[..16];
        await local.WaitServedAsync(line => line == $"got POST /m1 dev=alice len=8 sha={sha}");
        Assert.DoesNotContain(local.Served, line => line.Contains("/m2", StringComparison.Ordinal));
        Assert.Equal(IncomingMode.Mirror, Assert.Single(session.Requests).Mode);
    }

    [Fact]
    public async Task An_original_app_that_does_not_speak_HTTP2_gets_its_streams_answered_502_not_hung()
    {
        var port = NewPodPort();
        await using var original = await IncomingApp.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        var url = $"http://{await ListenerAsync(port)}";

        using var client = new Http2Client(await ListenerAsync(port));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (status, _) = await client.GetAsync("/plain", null, timeout.Token);
        Assert.Equal(502, status);
        Assert.StartsWith("local GET /a dev=alice", await client.GetStringAsync("/a", "alice"), StringComparison.Ordinal);
        Assert.Equal(1, client.Connections);
    }

    [Fact]
    public async Task A_connection_that_only_starts_like_the_preface_goes_to_the_app_untouched()
    {
        var port = NewPodPort();
        await using var original = await IncomingApp.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", 1);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(await ListenerAsync(port));
        await client.SendAsync("PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await client.ReceiveAsync(buffer)) > 0)
        {
            answer.Write(buffer, 0, read);
        }

        // Python's http.server answers the odd request line itself (its error page): the agent neither spoke HTTP/2 nor stole it.
        Assert.Contains("Error code: 505", Encoding.Latin1.GetString(answer.ToArray()), StringComparison.Ordinal);
        Assert.Empty(session.Requests);
        await WaitForLogAsync(line => line.Contains("bytes that are not an HTTP/1.x request line", StringComparison.Ordinal));
    }
}
