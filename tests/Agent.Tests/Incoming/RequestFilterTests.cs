using System.Buffers;
using System.Text;
using ClusterContext.Agent.Incoming;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Tests.Incoming;

public class RequestFilterTests
{
    private static HttpRequestHead Request(string text)
    {
        Assert.Equal(HeadStatus.Parsed, HttpHeadParser.TryParseRequest(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), out var head));
        return head!;
    }

    private static HttpFilter Header(string pattern) => new(HttpFilterKind.Header, pattern, []);

    private static HttpFilter Path(string pattern) => new(HttpFilterKind.Path, pattern, []);

    private static HttpFilter Method(string pattern) => new(HttpFilterKind.Method, pattern, []);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nX-Dev: alice\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nx-dev:alice\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nX-Dev: alice2\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\nX-Dev: Alice\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\nX-Other: x-dev: alice\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-Dev: bob\r\nX-Dev: alice\r\n\r\n", true)]
    public void A_header_pattern_sees_each_name_value_line_with_the_name_lower_cased(string request, bool matches) =>
        Assert.Equal(matches, RequestFilter.Compile(Header("^x-dev: alice$")).Matches(Request(request)));

    [Theory]
    [InlineData("GET /api/orders?x=1 HTTP/1.1\r\n\r\n", true)]
    [InlineData("GET http://orders:8080/api/x HTTP/1.1\r\n\r\n", true)]
    [InlineData("GET /health HTTP/1.1\r\n\r\n", false)]
    [InlineData("POST /api/orders HTTP/1.1\r\n\r\n", false)]
    public void AllOf_needs_every_filter(string request, bool matches) =>
        Assert.Equal(matches, RequestFilter.Compile(new HttpFilter(HttpFilterKind.AllOf, "", [Path("^/api/"), Method("^GET$")])).Matches(Request(request)));

    [Theory]
    [InlineData("DELETE /x HTTP/1.1\r\n\r\n", true)]
    [InlineData("GET /x HTTP/1.1\r\nX-Dev: alice\r\n\r\n", true)]
    [InlineData("GET /x HTTP/1.1\r\n\r\n", false)]
    public void AnyOf_needs_one_filter(string request, bool matches) =>
        Assert.Equal(matches, RequestFilter.Compile(new HttpFilter(HttpFilterKind.AnyOf, "", [Method("DELETE"), Header("^x-dev: alice$")])).Matches(Request(request)));

    [Fact]
    public void An_invalid_pattern_is_refused_with_its_text()
    {
        var error = Assert.Throws<RemoteException>(() => RequestFilter.Compile(new HttpFilter(HttpFilterKind.AllOf, "", [Path("(unclosed")])));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains("(unclosed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_that_runs_too_long_matches_nothing_instead_of_stalling()
    {
        var filter = RequestFilter.Compile(Path("^(a+)+$"));
        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(filter.Matches(Request($"GET /{new string('a', 5000)}! HTTP/1.1\r\n\r\n")));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }
}
