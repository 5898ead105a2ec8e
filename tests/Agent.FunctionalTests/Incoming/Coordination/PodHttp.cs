using System.Net;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Coordination;

/// <summary>One HTTP request to a pod port from the host, as another node's client would send it, on a connection of its own.</summary>
internal static class PodHttp
{
    /// <summary>The answer's body (the incoming app names itself first), or null when nothing answered within <paramref name="timeout"/>.</summary>
    public static async Task<string?> GetAsync(IPEndPoint pod, string path, string? dev, TimeSpan? timeout = null)
    {
        // A fresh connection each time: only a connection's opening SYN is redirected, so reuse would hide a switch.
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = timeout ?? TimeSpan.FromSeconds(5) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{pod}{path}");
        request.Headers.ConnectionClose = true;
        if (dev is not null)
        {
            request.Headers.Add("X-Dev", dev);
        }

        try
        {
            using var response = await client.SendAsync(request);
            return await response.Content.ReadAsStringAsync();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Who answers a request with <paramref name="dev"/>: the first word of the answer.</summary>
    public static async Task<string?> WhoAsync(IPEndPoint pod, string? dev, TimeSpan? timeout = null) =>
        (await GetAsync(pod, "/who", dev, timeout))?.Split(' ')[0];
}
