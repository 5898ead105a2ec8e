using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using static ClusterContext.Agent.FunctionalTests.Incoming.Redirect.RedirectClient;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>The redirect ends with the process that made it, however it ends; and without NET_ADMIN it says so.</summary>
public sealed class RedirectLifetimeTests(RedirectSandboxFixture fixture) : IClassFixture<RedirectSandboxFixture>
{
    private readonly Testing.Sandbox.PodSandbox _sandbox = fixture.Sandbox;

    [Fact]
    public async Task Kill_9_of_the_redirecting_process_gives_the_port_back_to_the_app_within_a_second_and_leaves_no_rule()
    {
        const ushort appPort = 18180;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var probe = await RedirectProbe.StartAsync(_sandbox, appPort, agent.Port);
        var target = new IPEndPoint(_sandbox.PodIP, appPort);
        Assert.Equal(Redirected, await FromHostAsync(target));
        Assert.Contains(probe.TableName, await fixture.NftAsync("list", "tables"), StringComparison.Ordinal);

        // Clients keep connecting while the process dies, as a pod's clients would.
        using var stop = new CancellationTokenSource();
        var running = Enumerable.Range(0, 4).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var load = running.Select(r => ConnectUntilStoppedAsync(target, r, stop.Token)).ToArray();
        await Task.WhenAll(running.Select(r => r.Task)).WaitAsync(TimeSpan.FromSeconds(10));

        var clock = Stopwatch.StartNew();
        probe.KillHard();
        var killed = clock.Elapsed;
        var first = await FromHostAsync(target);
        while (first != App && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            first = await FromHostAsync(target);
        }

        var backToApp = clock.Elapsed;
        // More connections after the app is back, so the load shows clients go on through the switch.
        await Task.WhenAll(running.Select(_ => FromHostAsync(target)));
        await stop.CancelAsync();
        var served = await Task.WhenAll(load);
        Console.WriteLine($"killed after {killed.TotalMilliseconds:F0} ms, back to the app after {backToApp.TotalMilliseconds:F0} ms; load: {string.Join(", ", served.Select(c => $"{c.Answered} answered, {c.Failed} failed"))}");

        Assert.Equal(App, first);
        Assert.True(backToApp < TimeSpan.FromSeconds(1), $"the app answered again only after {backToApp.TotalMilliseconds:F0} ms");
        Assert.All(served, count => Assert.True(count.Answered > 0, "a client got no connection through at all"));
        Assert.DoesNotContain("clusterctx_", await fixture.NftAsync("list", "ruleset"), StringComparison.Ordinal);
        Assert.Equal(App, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, appPort)));
    }

    [Fact]
    public async Task A_normal_end_leaves_nothing_either()
    {
        const ushort appPort = 18181;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var probe = await RedirectProbe.StartAsync(_sandbox);
        await probe.CommandAsync($"redirect {appPort} {agent.Port}");
        Assert.Equal(Redirected, await FromPodAsync(_sandbox, new IPEndPoint(_sandbox.PodIP, appPort)));

        Assert.Equal(0, await probe.EndInputAsync());

        Assert.DoesNotContain(probe.TableName, await fixture.NftAsync("list", "ruleset"), StringComparison.Ordinal);
        Assert.Equal(App, await FromPodAsync(_sandbox, new IPEndPoint(_sandbox.PodIP, appPort)));
        Assert.Equal(App, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
    }

    [Fact]
    public async Task Without_NET_ADMIN_the_error_names_the_capability()
    {
        // As the agent container would run without the capability added: root, but NET_ADMIN out of every set.
        var result = await _sandbox.RunInPodAsync("setpriv", ["--inh-caps=-all", "--bounding-set=-net_admin", "--", RedirectProbe.DotnetHost, RedirectProbe.Assembly, "18182", "18183"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("PortRedirectException: Cannot redirect the pod's ports: the agent container needs the NET_ADMIN capability", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("network.incoming needs it", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("clusterctx_", await fixture.NftAsync("list", "ruleset"), StringComparison.Ordinal);
    }

    /// <summary>Connects again and again (to whichever side answers); counts the connections answered and those that failed.</summary>
    /// <remarks>
    /// A connection whose SYN was redirected just before the kill loses its translation with the table (the NAT
    /// hooks go too), so its handshake stalls until the client retransmits or gives up: the kernel's behaviour, and
    /// the one connection per client that the counts allow for.
    /// </remarks>
    private static async Task<(int Answered, int Failed)> ConnectUntilStoppedAsync(IPEndPoint target, TaskCompletionSource running, CancellationToken stop)
    {
        int answered = 0, failed = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await FromHostAsync(target, stop);
                answered++;
                running.TrySetResult();
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                failed += stop.IsCancellationRequested ? 0 : 1;
            }
        }

        return (answered, failed);
    }
}
