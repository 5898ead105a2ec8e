using System.Diagnostics;
using System.Text.Json;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

public sealed partial class KestrelIncomingTests
{
    [Fact]
    public async Task Mirror_gives_Kestrel_every_request_while_clients_get_the_pod_app_answers_and_killing_the_app_does_not_slow_them()
    {
        var port = KestrelApp.FreePort();
        var agentsBefore = await AgentsGoneAsync();
        var ready = Path.Combine(fixture.Directory, $"mirror-ready-{Guid.NewGuid():N}");
        var killed = Path.Combine(fixture.Directory, $"mirror-killed-{Guid.NewGuid():N}");
        var gone = Path.Combine(fixture.Directory, $"mirror-gone-{Guid.NewGuid():N}");
        await using var app = await KestrelApp.StartAsync(fixture.Kubeconfig, $$"""
            { "network": { "incoming": { "mode": "mirror", "portMapping": { "{{port}}": 8080 } } } }
            """, [port], printRequests: true);

        var client = Cluster.RunInClientAsync("/usr/bin/python3", ["-c", TimedClient, SandboxCluster.OrdersHost, $"{SandboxCluster.AppPort}", ready, killed, gone],
            TimeSpan.FromSeconds(60));
        await WaitForFileAsync(ready, client);

        // The app saw a copy of every request of the first phase (copies arrive after the client has its answer).
        var before = Enumerable.Range(0, 20).Select(i => $"GET /before/{i}").ToList();
        await app.WaitForLineAsync(_ => before.All(app.Requests.Contains), TimeSpan.FromSeconds(10));

        // kill -9 of the app while the client goes on: its session is lost, then its agent leaves with the redirect.
        await app.KillAsync();
        await File.WriteAllTextAsync(killed, "");
        await WaitForAgentsToExitAsync(agentsBefore);
        await File.WriteAllTextAsync(gone, "");

        var result = await client;
        Assert.True(result.ExitCode == 0, result.StandardError);
        var requests = JsonSerializer.Deserialize<JsonElement[][]>(result.StandardOutput)!
            .Select(r => (Phase: r[0].GetString()!, Body: r[1].GetString()!, Seconds: r[2].GetDouble())).ToList();
        Assert.All(requests, r => Assert.Equal(SandboxCluster.AppBody, r.Body));
        Assert.Contains(requests, r => r.Phase == "after");
        var slowest = requests.MaxBy(r => r.Seconds);
        foreach (var phase in requests.GroupBy(r => r.Phase))
        {
            var sorted = phase.Select(r => r.Seconds * 1000).Order().ToList();
            output.WriteLine($"{phase.Key}: {sorted.Count} requests, median {sorted[sorted.Count / 2]:0.0} ms, slowest {sorted[^1]:0.0} ms");
        }

        Assert.True(slowest.Seconds < 1, $"A request took {slowest.Seconds:0.000} s ({slowest.Phase}); latencies (ms) by phase: "
            + string.Join("; ", requests.GroupBy(r => r.Phase).Select(g => $"{g.Key}: {string.Join(' ', g.Select(r => (r.Seconds * 1000).ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}")));
        Assert.DoesNotContain("clusterctx", await RulesetAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// One GET per connection, each timed: 20 ("before"), then "ready" is written and requests go on ("during")
    /// until "killed" appears, then ("after") until "gone" appears and half a second more. [phase, body, seconds] each.
    /// </summary>
    private const string TimedClient = """
        import http.client, json, os, sys, time
        host, port, ready, killed, gone = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
        requests = []
        def get(phase, i):
            start = time.monotonic()
            try:
                connection = http.client.HTTPConnection(host, port, timeout=5)
                connection.request("GET", f"/{phase}/{i}")
                body = connection.getresponse().read().decode()
                connection.close()
            except Exception as e:
                body = "!" + repr(e)
            requests.append([phase, body, time.monotonic() - start])
        for i in range(20):
            get("before", i)
        open(ready, "w").close()
        deadline = time.monotonic() + 40
        i = 0
        while not os.path.exists(killed) and time.monotonic() < deadline:
            get("during", i)
            i += 1
        end = None
        i = 0
        while (end is None or time.monotonic() < end) and time.monotonic() < deadline:
            if end is None and os.path.exists(gone):
                end = time.monotonic() + 0.5
            get("after", i)
            i += 1
        print(json.dumps(requests))
        """;

    /// <summary>Waits until <paramref name="path"/> exists, failing if <paramref name="writer"/> ends first.</summary>
    private static async Task WaitForFileAsync(string path, Task<Testing.Sandbox.PodCommandResult> writer)
    {
        var clock = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (writer.IsCompleted)
            {
                var result = await writer;
                throw new InvalidOperationException($"The client ended ({result.ExitCode}) before writing {path}: {result.StandardError}");
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{path} did not appear within 30 s.");
            await Task.Delay(20);
        }
    }
}
