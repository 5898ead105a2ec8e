using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

[Collection(SandboxGroup.Name)]
public class MirrorTests(SandboxAgentFixture fixture) : IncomingTestBase(fixture)
{
    [Fact]
    public async Task The_client_gets_the_originals_answer_while_the_session_sees_the_same_bytes_and_its_answers_are_dropped()
    {
        var port = NewPodPort();
        await using var original = await IncomingApp.StartInPodAsync(Fixture.Sandbox, "original", port);
        var seen = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", async (request, stream) =>
        {
            Assert.Equal(IncomingMode.Mirror, request.Mode);
            await stream.WriteAsync("HTTP/1.1 500 the local app must never be heard\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
            var all = new MemoryStream();
            await stream.CopyToAsync(all);
            seen.TrySetResult(all.ToArray());
        });
        await session.SubscribeAsync(port, IncomingMode.Mirror);

        var sent = Encoding.ASCII.GetBytes(
            "GET /first HTTP/1.1\r\nHost: orders\r\n\r\n" +
            "POST /second HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(await ListenerAsync(port));
        await client.SendAsync(sent);
        var answer = await ReadToEndAsync(client);
        Assert.Contains("original GET /first", answer, StringComparison.Ordinal);
        Assert.Contains("original POST /second dev=- len=5", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("500", answer, StringComparison.Ordinal);
        client.Shutdown(SocketShutdown.Send); // the connection's end is the copy's end

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(sent, await seen.Task.WaitAsync(timeout.Token));
    }

    [Fact]
    public async Task A_session_that_never_reads_does_not_slow_the_pods_clients_and_its_lost_copies_are_counted()
    {
        var port = NewPodPort();
        await using var original = await IncomingApp.StartInPodAsync(Fixture.Sandbox, "original", port);
        var never = new TaskCompletionSource();
        await using var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "stuck", (_, _) => never.Task);
        await session.SubscribeAsync(port, IncomingMode.Mirror);
        var listener = await ListenerAsync(port);

        // Far more than the copy's bound and the stream's window together: a mirror that waited would stall here.
        var body = new byte[24 * 1024 * 1024];
        Random.Shared.NextBytes(body);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.PostAsync($"http://{listener}/upload{i}", new ByteArrayContent(body));
            Assert.StartsWith($"original POST /upload{i} dev=- len={body.Length}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        await WaitForLogAsync(line => line.Contains("a mirrored copy was dropped: the session does not keep up", StringComparison.Ordinal));
        never.SetResult();
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        var all = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }

        return Encoding.Latin1.GetString(all.ToArray());
    }
}
