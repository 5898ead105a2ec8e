using System.Buffers;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using ClusterContext.Protocol.Tests.Infrastructure;

namespace ClusterContext.Protocol.Tests.Multiplexing;

/// <summary>
/// A stream's end reaches the reader together with the last bytes sent before it: a relay then hands both to its
/// socket at once, and the app sees the FIN with the data, as it would on a direct connection. Over TCP the data
/// frame and the End frame go out in one gathering send.
/// </summary>
public class StreamEndTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(389, false)]
    [InlineData(200 * 1024, false)]
    [InlineData(1, true)]
    [InlineData(389, true)]
    [InlineData(200 * 1024, true)]
    public async Task The_last_bytes_and_the_end_arrive_in_one_read(int length, bool overTcp)
    {
        var sent = new byte[length];
        new Random(length).NextBytes(sent);
        await using var pair = await MuxPair.StartAsync(overTcp, async request =>
        {
            var stream = request.CreateStream();
            request.Respond(new TcpConnectResponse(new System.Net.IPEndPoint(0, 1), new System.Net.IPEndPoint(0, 2)));
            var pooled = ArrayPool<byte>.Shared.Rent(length);
            sent.CopyTo(pooled, 0);
            await stream.WritePooledAsync(pooled, length, request.CancellationToken, complete: true);
            await using (stream)
            {
                while (await stream.ReadAsync(new byte[1024], request.CancellationToken) > 0)
                {
                }
            }
        });
        var (_, stream) = await pair.Client.OpenStreamAsync<TcpConnectResponse>(new TcpConnectRequest("closing", 1, 0));

        var result = await stream.ReadBufferAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(result.IsCompleted, $"the first read held {result.Buffer.Length} of {length} bytes without the end");
        Assert.Equal(sent, result.Buffer.ToArray());
        stream.AdvanceBuffer(result.Buffer, result.Buffer.Length);
        stream.CompleteWrites();
        await stream.DisposeAsync();
    }
}
