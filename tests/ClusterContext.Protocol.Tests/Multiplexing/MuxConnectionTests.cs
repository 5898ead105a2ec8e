using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using ClusterContext.Protocol.Tests.Infrastructure;

namespace ClusterContext.Protocol.Tests.Multiplexing;

public class MuxConnectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_request_gets_its_response(bool overTcp)
    {
        await using var pair = await MuxPair.StartAsync(overTcp, MuxPair.EchoHandler);
        var response = await pair.Client.RequestAsync<PingResponse>(new PingRequest([1, 2, 3]));
        Assert.Equal(new byte[] { 1, 2, 3 }, response.Payload);
        Assert.Equal("s1", pair.Client.Welcome!.SessionId);
    }

    [Fact]
    public async Task A_failed_request_carries_the_code_and_message()
    {
        await using var pair = await MuxPair.StartAsync(_ => throw new RemoteException(ErrorCode.NotFound, "/etc/missing: no such file"));
        var error = await Assert.ThrowsAsync<RemoteException>(() => pair.Client.RequestAsync<StatResponse>(new StatRequest("/etc/missing", true)));
        Assert.Equal(ErrorCode.NotFound, error.Code);
        Assert.Equal("/etc/missing: no such file", error.Message);
    }

    [Fact]
    public async Task An_unexpected_handler_failure_is_an_internal_error_and_the_session_goes_on()
    {
        await using var pair = await MuxPair.StartAsync(r => r.Message is PingRequest ? MuxPair.EchoHandler(r) : throw new InvalidOperationException("boom"));
        var error = await Assert.ThrowsAsync<RemoteException>(() => pair.Client.RequestAsync<StatResponse>(new StatRequest("/", true)));
        Assert.Equal(ErrorCode.Internal, error.Code);
        Assert.Contains("boom", error.Message, StringComparison.Ordinal);
        await pair.Client.RequestAsync<PingResponse>(new PingRequest([]));
    }

    [Fact]
    public async Task A_wrong_token_is_refused()
    {
        var pipes = new DuplexPipePair();
        var server = MuxConnection.AcceptAsync(pipes.Server, MuxPair.Welcome, MuxPair.EchoHandler);
        var error = await Assert.ThrowsAsync<RemoteException>(() => MuxConnection.ConnectAsync(pipes.Client, "wrong", "test"));
        Assert.Equal(ErrorCode.Unauthorized, error.Code);
        Assert.Contains("wrong token", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RemoteException>(() => server);
    }

    [Fact]
    public async Task Cancelling_a_request_cancels_its_handler()
    {
        var handlerCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = await MuxPair.StartAsync(async request =>
        {
            try
            {
                await Task.Delay(Timeout, request.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                handlerCancelled.SetResult();
                throw;
            }
        });

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pair.Client.RequestAsync<PingResponse>(new PingRequest([]), cts.Token));
        await handlerCancelled.Task.WaitAsync(Timeout);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_thousand_concurrent_streams_on_one_connection_all_complete(bool overTcp)
    {
        await using var pair = await MuxPair.StartAsync(overTcp, MuxPair.EchoHandler);
        var tasks = Enumerable.Range(0, 1000).Select(async i =>
        {
            var (_, stream) = await pair.Client.OpenStreamAsync<TcpConnectResponse>(new TcpConnectRequest("echo", 1, 0));
            await using (stream)
            {
                var sent = new byte[1000 + (i * 397 % 300_000)];
                new Random(i).NextBytes(sent);
                var receive = ReadAllAsync(stream);
                await stream.WriteAsync(sent);
                stream.CompleteWrites();
                Assert.Equal(sent, await receive);
            }
        });

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(0, pair.Client.OpenStreamCount);
    }

    [Fact]
    public async Task Closing_a_tcp_connection_whose_peer_stopped_reading_ends_after_the_grace_instead_of_never()
    {
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen();
        var accepted = listener.AcceptAsync();
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndPoint!);
        using var peer = await accepted;

        // The peer welcomes the client by hand and then reads nothing: the client's sends fill the kernel's buffers and wait.
        var welcome = new System.Buffers.ArrayBufferWriter<byte>();
        FrameWriter.Write(welcome, FrameType.Welcome, 0, MessageCodec.Encode(new WelcomeMessage(ProtocolLimits.Version, "test", "s1", 1, (uint)ProtocolLimits.DefaultStreamWindow)));
        await peer.SendAsync(welcome.WrittenMemory);
        var client = await MuxConnection.ConnectAsync(new StreamDuplexPipe(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true)), "token", "test");
        var requests = Enumerable.Range(0, 64).Select(_ => client.RequestAsync<PingResponse>(new PingRequest(new byte[512 * 1024]))).ToList();

        await client.DisposeAsync().AsTask().WaitAsync(Timeout);

        foreach (var request in requests)
        {
            await Assert.ThrowsAsync<SessionLostException>(() => request);
        }
    }

    [Fact]
    public async Task A_stream_whose_reader_stops_does_not_stall_the_others()
    {
        var written = 0L;
        var writerBlocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = await MuxPair.StartAsync(async request =>
        {
            if (request.Message is not UdpOpenRequest)
            {
                await MuxPair.EchoHandler(request);
                return;
            }

            // A firehose: writes until the session ends.
            var stream = request.CreateStream();
            request.Respond(new UdpOpenResponse(new System.Net.IPEndPoint(0, 0)));
            var chunk = new byte[32 * 1024];
            while (!request.CancellationToken.IsCancellationRequested)
            {
                var write = stream.WriteAsync(chunk, request.CancellationToken).AsTask();
                if (await Task.WhenAny(write, Task.Delay(500)) != write)
                {
                    writerBlocked.TrySetResult();
                }

                await write;
                Interlocked.Add(ref written, chunk.Length);
            }
        });

        var (_, stalled) = await pair.Client.OpenStreamAsync<UdpOpenResponse>(new UdpOpenRequest(false));
        await writerBlocked.Task.WaitAsync(Timeout);

        for (var i = 0; i < 20; i++)
        {
            var (_, echo) = await pair.Client.OpenStreamAsync<TcpConnectResponse>(new TcpConnectRequest("echo", 1, 0));
            await using (echo)
            {
                var payload = new byte[1024 * 1024];
                Random.Shared.NextBytes(payload);
                var receive = ReadAllAsync(echo);
                await echo.WriteAsync(payload);
                echo.CompleteWrites();
                Assert.Equal(payload, await receive.WaitAsync(Timeout));
            }
        }

        // The stalled stream holds at most its window: the writer is held back, nothing piles up.
        Assert.InRange(Interlocked.Read(ref written), 0, ProtocolLimits.DefaultStreamWindow);
        await stalled.DisposeAsync();
    }

    [Fact]
    public async Task Losing_the_connection_fails_waiting_requests_with_SessionLostException()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var pair = await MuxPair.StartAsync(async request =>
        {
            started.SetResult();
            await Task.Delay(Timeout, request.CancellationToken);
        });

        var waiting = pair.Client.RequestAsync<PingResponse>(new PingRequest([]));
        await started.Task.WaitAsync(Timeout);
        await pair.Server.DisposeAsync();
        await Assert.ThrowsAsync<SessionLostException>(() => waiting.WaitAsync(Timeout));
        await Assert.ThrowsAsync<SessionLostException>(() => pair.Client.RequestAsync<PingResponse>(new PingRequest([])));
    }

    [Fact]
    public async Task A_read_error_in_the_middle_of_a_stream_reaches_the_reader_as_an_error_not_an_early_end()
    {
        await using var pair = await MuxPair.StartAsync(async request =>
        {
            var stream = request.CreateStream();
            request.Respond(new OpenReadResponse(new FileStat(FileType.File, 10, 0, 0, 0, 0, 0, 1, 0, 0, 0)));
            await stream.WriteAsync(new byte[5]);
            stream.Reset(ErrorCode.IOError, "disk on fire");
        });

        var (_, stream) = await pair.Client.OpenStreamAsync<OpenReadResponse>(new OpenReadRequest("/f", 0, -1));
        var error = await Assert.ThrowsAsync<RemoteException>(() => ReadAllAsync(stream));
        Assert.Equal(ErrorCode.IOError, error.Code);
    }

    internal static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
