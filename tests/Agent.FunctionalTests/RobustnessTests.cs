using System.Buffers;
using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;

namespace ClusterContext.Agent.FunctionalTests;

[Collection(SandboxGroup.Name)]
public class RobustnessTests(SandboxAgentFixture fixture)
{
    [Fact]
    public async Task Garbage_on_the_agents_port_gets_an_error_and_the_next_client_is_served()
    {
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(fixture.AgentEndPoint);
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: agent\r\n\r\n"u8.ToArray());
            var reply = await ReadToEndAsync(socket);

            // An error frame (type 5) explaining the problem, then the connection is closed.
            Assert.True(reply.Length > FrameHeader.Size);
            Assert.Equal((byte)FrameType.Error, reply[4]);
            Assert.Contains("does not speak the ClusterContext agent protocol", System.Text.Encoding.UTF8.GetString(reply), StringComparison.Ordinal);
        }

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(fixture.AgentEndPoint);
            var junk = new byte[64 * 1024];
            new Random(7).NextBytes(junk);
            await socket.SendAsync(junk);
            await ReadToEndAsync(socket);
        }

        await using var client = await fixture.ConnectAsync();
        await client.PingAsync();
        Assert.False(fixture.Agent.HasExited);
    }

    [Fact]
    public async Task A_client_that_breaks_the_protocol_after_the_handshake_does_not_disturb_another_session()
    {
        await using var healthy = await fixture.ConnectAsync();
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(fixture.AgentEndPoint);
            var hello = new System.Buffers.ArrayBufferWriter<byte>();
            hello.Write(ProtocolLimits.Preface);
            FrameWriter.Write(hello, FrameType.Hello, 0, Protocol.Messages.MessageCodec.Encode(
                new Protocol.Messages.HelloMessage(1, 1, SandboxAgentFixture.Token, "broken", ProtocolLimits.DefaultStreamWindow)));
            var oversized = new byte[FrameHeader.Size];
            new FrameHeader(512 * 1024 * 1024, FrameType.Data, 0, 1).Write(oversized);
            await socket.SendAsync(hello.WrittenMemory);
            await socket.SendAsync(oversized);
            var reply = await ReadToEndAsync(socket);
            Assert.Contains("exceeds the limit", System.Text.Encoding.UTF8.GetString(reply), StringComparison.Ordinal);
        }

        await healthy.PingAsync();
        Assert.Equal(SandboxAgentFixture.ConfigContent, await healthy.ReadAllBytesAsync(SandboxAgentFixture.ConfigPath));
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_a_clear_message()
    {
        var error = await Assert.ThrowsAsync<RemoteException>(() => fixture.ConnectAsync("not-the-token"));
        Assert.Equal(ErrorCode.Unauthorized, error.Code);
        Assert.Contains("token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_session_start_and_end_is_logged_on_one_line()
    {
        await using (var client = await fixture.ConnectAsync())
        {
            await client.PingAsync();
            var session = client.Agent.SessionId;
            await client.DisposeAsync();
            await WaitUntilAsync(() => fixture.Agent.Log.Any(l => l.Contains($"session {session} from", StringComparison.Ordinal) && l.Contains("ended", StringComparison.Ordinal)));
            Assert.Single(fixture.Agent.Log, l => l.Contains($"session {session} started", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_agent_exits_after_the_idle_timeout_once_its_last_session_ends()
    {
        await using var agent = await fixture.StartAgentAsync(7778, "--idle-timeout", "1");
        await using (var client = await Session.AgentClient.ConnectAsync(new System.Net.IPEndPoint(fixture.Sandbox.PodIP, 7778), string.Empty))
        {
            // A session holds the agent alive past its idle timeout.
            await Task.Delay(TimeSpan.FromSeconds(2));
            await client.PingAsync();
        }

        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains(agent.Log, l => l.Contains("no session for 1 s; exiting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_agent_started_for_one_user_leaves_soon_after_the_session_ends_not_after_the_idle_timeout()
    {
        await using var agent = await fixture.StartAgentAsync(7779, "--idle-timeout", "120", "--linger", "1");
        await using (var client = await Session.AgentClient.ConnectAsync(new System.Net.IPEndPoint(fixture.Sandbox.PodIP, 7779), string.Empty))
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // longer than the linger time: a live session keeps the agent
            await client.PingAsync();
        }

        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(agent.Log, l => l.Contains("no session for 1 s; exiting", StringComparison.Ordinal));
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException)
        {
            // A reset after the error frame still ends the connection.
        }

        return received.ToArray();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(condition());
    }
}
