using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>Many streams of one HTTP/2 connection at once, matched and unmatched interleaved; a stuck session and cancelled streams hold back only themselves.</summary>
[Collection(SandboxGroup.Name)]
public class Http2StressTests(SandboxAgentFixture fixture) : IncomingTestBase(fixture)
{
    [Fact]
    public async Task Every_stream_of_hundreds_on_one_connection_reaches_its_side_whole()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        using var client = new Http2Client(await ListenerAsync(port));

        var random = new Random(7);
        var requests = Enumerable.Range(0, 400).Select(i =>
        {
            var body = new byte[random.Next(0, 300_000)];
            random.NextBytes(body);
            return (i, matched: random.Next(2) == 0, body);
        }).ToArray();

        var results = await Task.WhenAll(requests.Select(async r => (r, answer: await client.PostStringAsync($"/plain/{r.i}", r.matched ? "alice" : null, r.body))));
        foreach (var (r, answer) in results)
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(r.body))[..16];
            var expected = string.Create(CultureInfo.InvariantCulture,
                $"{(r.matched ? "local" : "original")} POST /plain/{r.i} dev={(r.matched ? "alice" : "-")} len={r.body.Length} sha={sha} ");
            Assert.StartsWith(expected, answer, StringComparison.Ordinal);
        }

        Assert.Equal(1, client.Connections);
        Assert.Single(session.Requests);
    }

    [Fact]
    public async Task A_session_that_never_answers_holds_back_only_its_own_streams()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        var never = new TaskCompletionSource();
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "stuck", (_, _) => never.Task);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        using var client = new Http2Client(await ListenerAsync(port));

        // Alice's upload is far beyond every window on the way to the stuck session; the others share its connection.
        using var stuck = new CancellationTokenSource();
        var upload = client.PostStringAsync("/stuck", "alice", new byte[8 * 1024 * 1024], stuck.Token);
        var body = new byte[1024 * 1024];
        Random.Shared.NextBytes(body);
        var sha = Convert.ToHexStringLower(SHA256.HashData(body))[..16];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        for (var i = 0; i < 10; i++)
        {
            var answer = await client.PostStringAsync($"/free{i}", null, body, timeout.Token);
            Assert.StartsWith($"original POST /free{i} dev=- len={body.Length} sha={sha} ", answer, StringComparison.Ordinal);
        }

        Assert.False(upload.IsCompleted);

        // Cancelling the stuck stream resets it; the connection goes on serving.
        await stuck.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);
        Assert.StartsWith("original GET /after dev=-", await client.GetStringAsync("/after", null), StringComparison.Ordinal);
        Assert.Equal(1, client.Connections);
        never.SetResult();
    }

    [Fact]
    public async Task Streams_the_client_cancels_midway_leave_the_connection_serving_both_sides()
    {
        var port = NewPodPort();
        await using var original = await Http2App.StartInPodAsync(Fixture.Sandbox, "original", port);
        await using var local = await Http2App.StartLocalAsync("local");
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        await session.SubscribeAsync(port, IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"));
        using var client = new Http2Client(await ListenerAsync(port));

        for (var i = 0; i < 20; i++)
        {
            // A body that sends some bytes and then waits: the request is cancelled while its stream is open both ways.
            using var cancel = new CancellationTokenSource();
            var dev = i % 2 == 0 ? "alice" : null;
            var sent = new TaskCompletionSource();
            var request = client.PostStreamAsync($"/cancelled{i}", dev, new StallingContent(64 * 1024, sent), cancel.Token);
            await sent.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
            var answer = await client.GetStringAsync($"/next{i}", dev);
            Assert.StartsWith($"{(dev is null ? "original" : "local")} GET /next{i} dev={dev ?? "-"}", answer, StringComparison.Ordinal);
        }

        Assert.Equal(1, client.Connections);
    }

    /// <summary>Sends <c>size</c> bytes, says so, then never ends.</summary>
    private sealed class StallingContent(int size, TaskCompletionSource sent) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(new byte[size], cancellationToken);
            await stream.FlushAsync(cancellationToken);
            sent.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
