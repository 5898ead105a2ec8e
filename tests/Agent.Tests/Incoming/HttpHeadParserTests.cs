using System.Buffers;
using System.Text;
using ClusterContext.Agent.Incoming.Http;

namespace ClusterContext.Agent.Tests.Incoming;

public class HttpHeadParserTests
{
    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.Latin1.GetBytes(text));

    [Fact]
    public void A_request_head_is_parsed_with_lower_cased_names_and_its_length()
    {
        const string text = "POST /api/orders?id=7 HTTP/1.1\r\nHost: orders\r\nX-Dev:  alice \r\nContent-Length: 5\r\n\r\nhello";
        Assert.Equal(HeadStatus.Parsed, HttpHeadParser.TryParseRequest(Bytes(text), out var head));
        Assert.Equal("POST", head!.Method);
        Assert.Equal("/api/orders?id=7", head.PathAndQuery);
        Assert.Equal(1, head.MinorVersion);
        Assert.Equal(new KeyValuePair<string, string>("x-dev", "alice"), head.Headers[1]);
        Assert.Equal(text.Length - 5, head.Length);
        Assert.Equal(new BodyFraming(BodyKind.Length, 5), head.Body);
        Assert.True(head.KeepAlive);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n")]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("GE")]
    public void A_partial_head_is_incomplete(string text) =>
        Assert.Equal(HeadStatus.Incomplete, HttpHeadParser.TryParseRequest(Bytes(text), out _));

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\n\r\n")]
    [InlineData("GET /\r\n\r\n")]
    [InlineData("G\u00e9T / HTTP/1.1\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nContent-Length: -4\r\n\r\n")]
    public void Heads_two_parsers_could_frame_differently_are_invalid(string text) =>
        Assert.Equal(HeadStatus.Invalid, HttpHeadParser.TryParseRequest(Bytes(text), out _));

    [Fact]
    public void A_head_over_the_limit_is_invalid()
    {
        var text = "GET / HTTP/1.1\r\nX: " + new string('a', HttpHeadParser.MaxHeadBytes) + "\r\n\r\n";
        Assert.Equal(HeadStatus.Invalid, HttpHeadParser.TryParseRequest(Bytes(text), out _));
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", true, true)]
    [InlineData("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", false, true)]
    [InlineData("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false, false)]
    [InlineData("GET / HTTP/1.0\r\n\r\n", false, false)]
    [InlineData("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", false, true)]
    public void Upgrade_and_keep_alive_follow_the_connection_header(string text, bool upgrade, bool keepAlive)
    {
        Assert.Equal(HeadStatus.Parsed, HttpHeadParser.TryParseRequest(Bytes(text), out var head));
        Assert.Equal(upgrade, head!.IsUpgrade);
        Assert.Equal(keepAlive, head.KeepAlive);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", "GET", "Length", true)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", "HEAD", "None", true)]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", "GET", "None", true)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", "GET", "None", true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", "Chunked", true)]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", "GET", "UntilClose", false)]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "GET", "Length", false)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", "GET", "Length", false)]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", "POST", "None", true)]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "GET", "None", true)]
    public void A_response_body_is_framed_as_RFC_9112_says(string text, string method, string kind, bool keepAlive)
    {
        Assert.Equal(HeadStatus.Parsed, HttpHeadParser.TryParseResponse(Bytes(text), method, out var head));
        Assert.Equal(Enum.Parse<BodyKind>(kind), head!.Body.Kind);
        Assert.Equal(keepAlive, head.KeepAlive);
        Assert.Equal(text.Length, head.Length);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n", "Parsed")]
    [InlineData("GET /", "Incomplete")]
    [InlineData("DELE", "Incomplete")]
    [InlineData("PRI * HTTP/2.0\r\n", "Invalid")]
    [InlineData("\u0016\u0003\u0001", "Invalid")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", "Invalid")]
    [InlineData("*1\r\n$4\r\nPING\r\n", "Invalid")]
    public void Sniffing_tells_HTTP_from_other_protocols(string start, string expected) =>
        Assert.Equal(Enum.Parse<HeadStatus>(expected), HttpHeadParser.SniffRequestLine(Encoding.Latin1.GetBytes(start)));
}
