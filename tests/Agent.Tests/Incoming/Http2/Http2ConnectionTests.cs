using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Threading.Channels;
using ClusterContext.Agent.Incoming.Http2;
using ClusterContext.Agent.Incoming.Http2.Hpack;
using Microsoft.Extensions.Logging.Abstractions;

namespace ClusterContext.Agent.Tests.Incoming.Http2;

/// <summary>The agent's HTTP/2 connection (server role) over in-memory pipes, driven frame by frame with the frames real clients rarely send.</summary>
public sealed class Http2ConnectionTests : IAsyncDisposable
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();
    private readonly Http2Connection _connection;
    private readonly Task<string> _run;
    private readonly TaskCompletionSource<Http2Stream> _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Http2ConnectionTests()
    {
        _connection = new Http2Connection("test client", _toClient.Writer.AsStream(), _toServer.Reader, isServer: true, NullLogger.Instance)
        {
            AcceptStream = (stream, _) =>
            {
                _accepted.TrySetResult(stream);
                return new RecordingSink(_events.Writer);
            },
        };
        _run = _connection.RunAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Padded_and_prioritised_headers_split_over_continuations_and_padded_data_arrive_whole()
    {
        await _connection.StartAsync(CancellationToken.None);
        await SendAsync(Http2Frames.ClientPreface, Http2Frames.Settings());
        var block = HpackEncoder.Encode([new(":method", "POST"), new(":path", "/x"), new("x-dev", "alice")]);

        // HEADERS: padded (3 bytes), with priority fields, the block's first 5 bytes; then two CONTINUATIONs.
        byte[] headers = [3, 0, 0, 0, 0, 16, .. block.AsSpan(0, 5), 0, 0, 0];
        await SendAsync(
            Http2Frames.Build(Http2FrameType.Headers, Http2Flags.Padded | Http2Flags.Priority, 1, headers),
            Http2Frames.Build(Http2FrameType.Continuation, 0, 1, block.AsSpan(5, 4)),
            Http2Frames.Build(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, block.AsSpan(9)),
            Http2Frames.Build(Http2FrameType.Priority, 0, 1, new byte[5]),
            Http2Frames.Build(Http2FrameType.Data, Http2Flags.Padded | Http2Flags.EndStream, 1, [4, .. "hello"u8, 0, 0, 0, 0]),
            Http2Frames.Build(Http2FrameType.Ping, 0, 0, "12345678"u8));

        Assert.Equal("headers :method: POST|:path: /x|x-dev: alice end=False", await NextEventAsync());
        Assert.Equal("data hello end=True", await NextEventAsync());

        // Our SETTINGS and connection window first, then: the SETTINGS ACK, the padding's window back (it is
        // forwarded nowhere), the PING's ACK with its payload.
        var frames = await ReadFramesAsync(5);
        Assert.Equal(Http2FrameType.Settings, frames[0].Header.Type);
        Assert.Equal(Http2FrameType.WindowUpdate, frames[1].Header.Type);
        Assert.Contains(frames, f => f.Header.Type == Http2FrameType.Settings && f.Header.Has(Http2Flags.Ack));
        Assert.Contains(frames, f => f.Header.Type == Http2FrameType.WindowUpdate && f.Header.StreamId == 1 && BinaryPrimitives.ReadInt32BigEndian(f.Payload) == 5);
        Assert.Contains(frames, f => f.Header.Type == Http2FrameType.Ping && f.Header.Has(Http2Flags.Ack) && f.Payload.SequenceEqual("12345678"u8.ToArray()));
    }

    [Fact]
    public async Task Data_waits_for_the_peers_stream_window_and_goes_on_after_its_update()
    {
        await _connection.StartAsync(CancellationToken.None);
        await SendAsync(Http2Frames.ClientPreface, Http2Frames.Settings((Http2Settings.InitialWindowSize, 10)));
        await SendAsync(Http2Frames.BuildHeaders(1, HpackEncoder.Encode([new(":method", "GET"), new(":path", "/")]), endStream: true, 16384));
        var stream = await _accepted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("headers :method: GET|:path: / end=True", await NextEventAsync());
        await ReadFramesAsync(3); // our SETTINGS, connection window, and the ACK of theirs

        var write = _connection.WriteDataAsync(stream, new byte[25], endStream: true, CancellationToken.None);
        var first = Assert.Single(await ReadFramesAsync(1));
        Assert.Equal((Http2FrameType.Data, 10, false), (first.Header.Type, first.Header.Length, first.Header.Has(Http2Flags.EndStream)));

        // A PING's ACK comes back before any more DATA: the rest waits for window.
        await SendAsync(Http2Frames.Build(Http2FrameType.Ping, 0, 0, "waiting!"u8));
        var ack = Assert.Single(await ReadFramesAsync(1));
        Assert.Equal(Http2FrameType.Ping, ack.Header.Type);
        Assert.False(write.IsCompleted);

        await SendAsync(Http2Frames.WindowUpdate(1, 100));
        var rest = Assert.Single(await ReadFramesAsync(1));
        Assert.Equal((Http2FrameType.Data, 15, true), (rest.Header.Type, rest.Header.Length, rest.Header.Has(Http2Flags.EndStream)));
        await write.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_frame_inside_a_header_block_ends_the_connection_with_a_protocol_error()
    {
        await SendAsync(Http2Frames.ClientPreface, Http2Frames.Settings());
        await SendAsync(
            Http2Frames.Build(Http2FrameType.Headers, 0, 1, HpackEncoder.Encode([new(":method", "GET")])),
            Http2Frames.Build(Http2FrameType.Ping, 0, 0, new byte[8]));
        Assert.StartsWith("protocol error", await _run.WaitAsync(TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
        var goAway = (await ReadFramesAsync(2)).Last();
        Assert.Equal(Http2FrameType.GoAway, goAway.Header.Type);
        Assert.Equal((uint)Http2ErrorCode.ProtocolError, BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
    }

    private async Task SendAsync(params byte[][] frames)
    {
        foreach (var frame in frames)
        {
            await _toServer.Writer.WriteAsync(frame);
        }
    }

    private async Task<string> NextEventAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _events.Reader.ReadAsync(timeout.Token);
    }

    private async Task<List<(Http2FrameHeader Header, byte[] Payload)>> ReadFramesAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var frames = new List<(Http2FrameHeader, byte[])>();
        while (frames.Count < count)
        {
            var result = await _toClient.Reader.ReadAsync(timeout.Token);
            var buffer = result.Buffer;
            while (frames.Count < count && Http2Frames.TryRead(ref buffer, 1 << 20, out var header, out var payload))
            {
                frames.Add((header, payload));
            }

            _toClient.Reader.AdvanceTo(buffer.Start, frames.Count < count ? buffer.End : buffer.Start);
        }

        return frames;
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private sealed class RecordingSink(ChannelWriter<string> events) : IHttp2StreamSink
    {
        public void OnOpened(Http2Stream stream)
        {
        }

        public void OnHeaders(List<HeaderField> fields, bool endStream) =>
            events.TryWrite($"headers {string.Join('|', fields.Select(f => $"{f.Name}: {f.Value}"))} end={endStream}");

        public void OnData(ReadOnlyMemory<byte> data, bool endStream) =>
            events.TryWrite($"data {System.Text.Encoding.ASCII.GetString(data.Span)} end={endStream}");

        public void OnReset(Http2ErrorCode code) => events.TryWrite($"reset {code}");

        public void OnLost(string reason) => events.TryWrite($"lost {reason}");
    }
}
