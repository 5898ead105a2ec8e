using System.Globalization;
using System.Security.Cryptography;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>Many keep-alive connections at once, matched and unmatched requests interleaved, every body checked on the side that got it.</summary>
[Collection(SandboxGroup.Name)]
public class FilteredStressTests(SandboxAgentFixture fixture) : IncomingTestBase(fixture)
{
    [Fact]
    public async Task Every_request_of_many_concurrent_keep_alive_connections_reaches_its_side_whole()
    {
        var port = NewPodPort();
        await using var steal = await StealForAliceAsync(port);
        var (session, listener) = (steal.Session, steal.Listener);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { Timeout = TimeSpan.FromSeconds(60) };
        var random = new Random(11);
        var requests = Enumerable.Range(0, 400).Select(i =>
        {
            var body = new byte[random.Next(0, 200_000)];
            random.NextBytes(body);
            return (i, matched: random.Next(2) == 0, chunked: random.Next(2) == 0, body);
        }).ToArray();

        var results = await Task.WhenAll(requests.Select(async r =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, $"http://{listener}/{(r.chunked ? "chunked" : "plain")}/{r.i}")
            {
                Content = r.chunked ? new StreamContent(new MemoryStream(r.body)) : new ByteArrayContent(r.body),
            };
            message.Headers.TransferEncodingChunked = r.chunked;
            if (r.matched)
            {
                message.Headers.Add("X-Dev", "alice");
            }

            using var response = await http.SendAsync(message);
            return (r, text: await response.Content.ReadAsStringAsync());
        }));

        foreach (var (r, text) in results)
        {
            var sha = Convert.ToHexStringLower(SHA256.HashData(r.body))[..16];
            var expected = string.Create(CultureInfo.InvariantCulture,
                $"{(r.matched ? "local" : "original")} POST /{(r.chunked ? "chunked" : "plain")}/{r.i} dev={(r.matched ? "alice" : "-")} len={r.body.Length} sha={sha} ");
            Assert.StartsWith(expected, text, StringComparison.Ordinal);
        }

        // Each client connection keeps its stream to the session for its matched requests: no more streams than
        // client connections, and each stream is one connection of the local app's.
        Assert.InRange(session.Requests.Count, 1, 16);
        var localConnections = results.Where(r => r.r.matched).Select(r => From(r.text)).Distinct().Count();
        Assert.Equal(session.Requests.Count, localConnections);
    }
}
