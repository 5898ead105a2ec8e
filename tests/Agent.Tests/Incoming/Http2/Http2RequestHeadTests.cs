using ClusterContext.Agent.Incoming;
using ClusterContext.Agent.Incoming.Http2;
using ClusterContext.Agent.Incoming.Http2.Hpack;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Tests.Incoming.Http2;

/// <summary>An HTTP/2 request as the session filters see it: the same patterns match it as its HTTP/1.1 form.</summary>
public class Http2RequestHeadTests
{
    private static readonly List<HeaderField> Request =
    [
        new(":method", "POST"), new(":scheme", "http"), new(":authority", "orders.shop:8080"), new(":path", "/orders/7?full=1"),
        new("x-dev", "alice"), new("content-type", "application/grpc"),
    ];

    [Theory]
    [InlineData(HttpFilterKind.Header, "^x-dev: alice$", true)]
    [InlineData(HttpFilterKind.Header, "^host: orders\\.shop", true)]
    [InlineData(HttpFilterKind.Header, "^content-type: application/grpc$", true)]
    [InlineData(HttpFilterKind.Header, "^:method", false)] // pseudo-fields are not headers
    [InlineData(HttpFilterKind.Path, "^/orders/7\\?full=1$", true)]
    [InlineData(HttpFilterKind.Method, "^POST$", true)]
    [InlineData(HttpFilterKind.Method, "^GET$", false)]
    public void Filters_see_the_pseudo_fields_as_method_path_and_host(object kind, string pattern, bool matches)
    {
        // The protocol's types are internal: a public test method takes them as object.
        var head = Http2Proxy.ToRequestHead(Request)!;
        Assert.Equal(matches, RequestFilter.Compile(new HttpFilter((HttpFilterKind)kind, pattern, [])).Matches(head));
    }

    [Fact]
    public void A_host_header_the_client_sent_is_kept_and_a_request_without_method_or_path_is_none()
    {
        var head = Http2Proxy.ToRequestHead([new(":method", "GET"), new(":path", "/"), new(":authority", "a"), new("host", "b")])!;
        Assert.Equal(["b"], head.Headers.Where(h => h.Key == "host").Select(h => h.Value));
        Assert.Null(Http2Proxy.ToRequestHead([new(":method", "GET")]));
        Assert.Null(Http2Proxy.ToRequestHead([new(":path", "/")]));
        Assert.Equal("a:443", Http2Proxy.ToRequestHead([new(":method", "CONNECT"), new(":authority", "a:443")])!.Target);
    }
}
