using System.Buffers;
using System.IO.Pipelines;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using ClusterContext.Protocol.Tests.Infrastructure;

namespace ClusterContext.Protocol.Tests.Multiplexing;

/// <summary>A peer that breaks the protocol gets an error frame and its connection closed; nothing else is affected.</summary>
public class MalformedInputTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Garbage_instead_of_a_preface_is_refused_with_an_error_frame()
    {
        var pipes = new DuplexPipePair();
        var server = MuxConnection.AcceptAsync(pipes.Server, MuxPair.Welcome, MuxPair.EchoHandler);
        await pipes.Client.Output.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        var error = await Assert.ThrowsAsync<ProtocolException>(() => server.WaitAsync(Timeout));
        Assert.Contains("bad preface", error.Message, StringComparison.Ordinal);
        var frame = await ReadFrameAsync(pipes.Client.Input);
        Assert.Equal(FrameType.Error, frame.Header.Type);
        Assert.Equal(ErrorCode.ProtocolError, ErrorPayload.Decode(frame.Payload).Code);
    }

    [Fact]
    public async Task An_oversized_frame_gets_FrameTooLarge_and_the_connection_closes()
    {
        var (pipes, server) = await HandshakeRawAsync();
        var header = new byte[FrameHeader.Size];
        new FrameHeader(1 << 30, FrameType.Data, 0, 1).Write(header);
        await pipes.Client.Output.WriteAsync(header);

        var frame = await ReadFrameAsync(pipes.Client.Input);
        Assert.Equal(FrameType.Error, frame.Header.Type);
        Assert.Equal(ErrorCode.FrameTooLarge, ErrorPayload.Decode(frame.Payload).Code);
        await Assert.ThrowsAsync<ProtocolException>(() => server.Completion.WaitAsync(Timeout));
        Assert.True(await IsClosedAsync(pipes.Client.Input));
    }

    [Fact]
    public async Task A_truncated_frame_at_the_end_of_the_connection_is_a_protocol_error()
    {
        var (pipes, server) = await HandshakeRawAsync();
        var frame = new ArrayBufferWriter<byte>();
        FrameWriter.Write(frame, FrameType.Request, 1, MessageCodec.Encode(new PingRequest(new byte[100])));
        await pipes.Client.Output.WriteAsync(frame.WrittenMemory[..50]);
        await pipes.Client.Output.CompleteAsync();

        var error = await Assert.ThrowsAsync<ProtocolException>(() => server.Completion.WaitAsync(Timeout));
        Assert.Contains("middle of a frame", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_request_payload_is_a_protocol_error()
    {
        var (pipes, server) = await HandshakeRawAsync();
        await WriteFrameAsync(pipes.Client.Output, FrameType.Request, 1, [0, (byte)MessageKind.Stat, 0, 0, 0, 50, (byte)'/']);

        var frame = await ReadFrameAsync(pipes.Client.Input);
        Assert.Equal(FrameType.Error, frame.Header.Type);
        Assert.Contains("Malformed message", ErrorPayload.Decode(frame.Payload).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ProtocolException>(() => server.Completion.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Sending_more_than_the_granted_credit_is_a_flow_control_error()
    {
        var (pipes, server) = await HandshakeRawAsync();
        await WriteFrameAsync(pipes.Client.Output, FrameType.Request, 1, MessageCodec.Encode(new TcpConnectRequest("echo", 1, 0)));
        var response = await ReadFrameAsync(pipes.Client.Input);
        Assert.Equal(FrameType.Response, response.Header.Type);

        // The echo handler reads slowly enough that the window is soon exhausted.
        var chunk = new byte[ProtocolLimits.MaxDataChunk];
        for (var sent = 0; sent <= ProtocolLimits.DefaultStreamWindow * 4; sent += chunk.Length)
        {
            await WriteFrameAsync(pipes.Client.Output, FrameType.Data, 1, chunk);
        }

        var error = await Assert.ThrowsAsync<ProtocolException>(() => server.Completion.WaitAsync(Timeout));
        Assert.Equal(ErrorCode.FlowControlError, error.Code);
    }

    [Fact]
    public async Task A_broken_connection_does_not_affect_another_connection_of_the_same_server()
    {
        await using var healthy = await MuxPair.StartAsync(MuxPair.EchoHandler);
        var (pipes, broken) = await HandshakeRawAsync();
        await pipes.Client.Output.WriteAsync(Enumerable.Repeat((byte)0xAB, 4096).ToArray());
        await Assert.ThrowsAsync<ProtocolException>(() => broken.Completion.WaitAsync(Timeout));

        var response = await healthy.Client.RequestAsync<PingResponse>(new PingRequest([42]));
        Assert.Equal(new byte[] { 42 }, response.Payload);
    }

    private static async Task<(DuplexPipePair Pipes, MuxConnection Server)> HandshakeRawAsync()
    {
        var pipes = new DuplexPipePair();
        var server = MuxConnection.AcceptAsync(pipes.Server, MuxPair.Welcome, MuxPair.EchoHandler);
        pipes.Client.Output.Write(ProtocolLimits.Preface);
        await WriteFrameAsync(pipes.Client.Output, FrameType.Hello, 0, MessageCodec.Encode(new HelloMessage(1, 1, "token", "raw", ProtocolLimits.DefaultStreamWindow)));
        var welcome = await ReadFrameAsync(pipes.Client.Input);
        Assert.Equal(FrameType.Welcome, welcome.Header.Type);
        return (pipes, await server);
    }

    private static async Task WriteFrameAsync(PipeWriter output, FrameType type, uint id, byte[] payload)
    {
        FrameWriter.Write(output, type, id, payload);
        await output.FlushAsync();
    }

    private static async Task<(FrameHeader Header, byte[] Payload)> ReadFrameAsync(PipeReader input)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            var result = await input.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            if (FrameReader.TryRead(ref buffer, ProtocolLimits.MaxFramePayload, out var header, out var payload))
            {
                var bytes = payload.ToArray();
                input.AdvanceTo(buffer.Start);
                return (header, bytes);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(result.IsCompleted, "The connection closed before a whole frame arrived.");
        }
    }

    private static async Task<bool> IsClosedAsync(PipeReader input)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            var result = await input.ReadAsync(timeout.Token);
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return true;
            }
        }
    }
}
