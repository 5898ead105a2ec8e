using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>.NET's own HTTP/2 client (SocketsHttpHandler) with prior knowledge, counting the TCP connections it opens: concurrent requests are streams of one connection.</summary>
public sealed class Http2Client : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _base;
    private int _connections;

    public Http2Client(IPEndPoint endPoint)
    {
        _base = new Uri($"http://{endPoint}");
        var handler = new SocketsHttpHandler
        {
            // A 100 Continue that never came through would stall an expecting request this long, not a second.
            Expect100ContinueTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = async (context, ct) =>
            {
                Interlocked.Increment(ref _connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public int Connections => Volatile.Read(ref _connections);

    public async Task<string> GetStringAsync(string path, string? dev)
    {
        var (status, text) = await GetAsync(path, dev, CancellationToken.None);
        Assert.True(status == 200, $"{path}: {status} {text}");
        return text;
    }

    public async Task<(int Status, string Text)> GetAsync(string path, string? dev, CancellationToken ct)
    {
        using var response = await _http.SendAsync(Request(HttpMethod.Get, path, dev), ct);
        Assert.Equal(HttpVersion.Version20, response.Version);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    public async Task<(string App, string Got, byte[] Body)> PostAsync(string path, string? dev, byte[] body)
    {
        var request = Request(HttpMethod.Post, path, dev);
        request.Content = new ByteArrayContent(body);
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (response.Headers.GetValues("x-app").Single(), response.Headers.GetValues("x-got").Single(), await response.Content.ReadAsByteArrayAsync());
    }

    public Task<string> PostStringAsync(string path, string? dev, byte[] body, CancellationToken ct = default) =>
        PostStreamAsync(path, dev, new ByteArrayContent(body), ct);

    public async Task<string> PostStreamAsync(string path, string? dev, HttpContent content, CancellationToken ct, bool expectContinue = false)
    {
        var request = Request(HttpMethod.Post, path, dev);
        request.Headers.ExpectContinue = expectContinue;
        request.Content = content;
        using var response = await _http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode} {text}");
        return text;
    }

    public async Task<(Dictionary<string, string> Trailers, string Text)> TrailersAsync(string path, string? dev)
    {
        using var response = await _http.SendAsync(Request(HttpMethod.Get, path, dev));
        var text = await response.Content.ReadAsStringAsync();
        return (response.TrailingHeaders.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase), text);
    }

    private HttpRequestMessage Request(HttpMethod method, string path, string? dev)
    {
        var request = new HttpRequestMessage(method, new Uri(_base, path)) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        if (dev is not null)
        {
            request.Headers.Add("X-Dev", dev);
        }

        return request;
    }

    public void Dispose() => _http.Dispose();
}
