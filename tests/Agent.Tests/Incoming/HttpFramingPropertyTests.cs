using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using ClusterContext.Agent.Incoming.Http;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterContext.Agent.Tests.Incoming;

/// <summary>
/// Requests on a keep-alive connection, with bodies of every framing, cut into arbitrary segments: the parser and
/// the body copier find each message's end exactly and forward every byte unchanged.
/// </summary>
public class HttpFramingPropertyTests
{
    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(300);

    private static readonly Gen<byte[]> Body = Gen.Choose(0, 3000).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));

    private static readonly Gen<string> Message =
        from method in Gen.Elements("GET", "POST", "PUT", "DELETE", "PATCH")
        from path in Gen.Elements("/", "/api/orders", "/a?b=c&d=%20", "/x/y/z")
        from header in Gen.Elements("x-dev: alice", "X-Trace: 1", "Accept: */*", "Cookie: a=b; c=d")
        from body in Body
        from chunked in Gen.Elements(true, false)
        from chunkSizes in Gen.ArrayOf(Gen.Choose(1, 700), 6)
        select Render(method, path, header, body, chunked, chunkSizes);

    [Fact]
    public void Each_message_of_a_keep_alive_connection_is_forwarded_whole_and_alone() =>
        Check.One(Config, Prop.ForAll(
            Gen.ListOf(Message, 4).SelectMany(messages => Gen.ArrayOf(Gen.Choose(1, 997), 40).Select(cuts => (messages, cuts))).ToArbitrary(),
            input =>
            {
                var messages = input.messages.Select(m => Encoding.Latin1.GetBytes(m)).ToArray();
                var forwarded = ForwardAsync(messages.SelectMany(m => m).ToArray(), input.cuts).GetAwaiter().GetResult();
                Assert.Equal(messages.Length, forwarded.Count);
                for (var i = 0; i < messages.Length; i++)
                {
                    Assert.Equal(messages[i], forwarded[i]);
                }
            }));

    [Fact]
    public async Task A_body_that_ends_early_is_reported()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("4\r\nab"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        Assert.False(await HttpBody.CopyAsync(pipe.Reader, new MemoryStream(), new BodyFraming(BodyKind.Chunked, 0), null, default));
    }

    [Fact]
    public async Task A_chunk_size_that_is_not_hex_is_an_error()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("zz\r\n"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        await Assert.ThrowsAsync<InvalidDataException>(() => HttpBody.CopyAsync(pipe.Reader, new MemoryStream(), new BodyFraming(BodyKind.Chunked, 0), null, default));
    }

    private static async Task<List<byte[]>> ForwardAsync(byte[] stream, int[] cuts)
    {
        var pipe = new Pipe();
        var writing = Task.Run(async () =>
        {
            var offset = 0;
            var i = 0;
            while (offset < stream.Length)
            {
                var size = Math.Min(cuts[i++ % cuts.Length], stream.Length - offset);
                await pipe.Writer.WriteAsync(stream.AsMemory(offset, size));
                offset += size;
            }

            await pipe.Writer.CompleteAsync();
        });

        var forwarded = new List<byte[]>();
        while (true)
        {
            var result = await pipe.Reader.ReadAsync();
            var status = HttpHeadParser.TryParseRequest(result.Buffer, out var head);
            if (status == HeadStatus.Incomplete)
            {
                pipe.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                if (result.IsCompleted)
                {
                    Assert.True(result.Buffer.IsEmpty);
                    break;
                }

                continue;
            }

            Assert.Equal(HeadStatus.Parsed, status);
            var output = new MemoryStream();
            var copied = new MemoryStream();
            await HttpBody.WriteAsync(output, result.Buffer.Slice(0, head!.Length), null, default);
            pipe.Reader.AdvanceTo(result.Buffer.GetPosition(head.Length));
            Assert.True(await HttpBody.CopyAsync(pipe.Reader, output, head.Body, bytes => copied.Write(System.Buffers.BuffersExtensions.ToArray(bytes)), default));
            Assert.Equal(output.ToArray()[head.Length..], copied.ToArray());
            forwarded.Add(output.ToArray());
        }

        await writing;
        return forwarded;
    }

    private static string Render(string method, string path, string header, byte[] body, bool chunked, int[] chunkSizes)
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\nHost: orders\r\n{header}\r\n"));
        var content = Encoding.Latin1.GetString(body);
        if (!chunked)
        {
            text.Append(body.Length > 0 ? string.Create(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n\r\n{content}") : "\r\n");
            return text.ToString();
        }

        text.Append("Transfer-Encoding: chunked\r\n\r\n");
        var offset = 0;
        for (var i = 0; offset < body.Length; i++)
        {
            var size = Math.Min(chunkSizes[i % chunkSizes.Length], body.Length - offset);
            text.Append(CultureInfo.InvariantCulture, $"{size:x}{(i % 2 == 0 ? "" : ";ext=1")}\r\n").Append(content.AsSpan(offset, size)).Append("\r\n");
            offset += size;
        }

        text.Append("0\r\nX-Trailer: t\r\n\r\n");
        return text.ToString();
    }
}
