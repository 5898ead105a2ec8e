using System.Net;
using System.Net.Sockets;
using ClusterContext.Agent.Incoming.Redirect;
using static ClusterContext.Agent.FunctionalTests.Incoming.Redirect.RedirectClient;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>The redirector against the real kernel, in the pod sandbox's network namespace, with clients from everywhere a pod is reached from.</summary>
public sealed class NftRedirectorTests(RedirectSandboxFixture fixture) : IClassFixture<RedirectSandboxFixture>
{
    private readonly Testing.Sandbox.PodSandbox _sandbox = fixture.Sandbox;

    [Fact]
    public async Task Redirected_port_sends_new_connections_from_outside_and_inside_the_pod_to_the_listener()
    {
        const ushort appPort = 18080;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var redirector = fixture.OpenRedirector();
        redirector.Redirect(appPort, agent.Port);

        Assert.Equal(Redirected, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
        Assert.Equal(Redirected, await FromServicesAsync(_sandbox, new IPEndPoint(_sandbox.PodServicesLinkIP, appPort)));
        Assert.Equal(Redirected, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, appPort)));
        Assert.Equal(Redirected, await FromPodAsync(_sandbox, new IPEndPoint(_sandbox.PodIP, appPort)));
        Assert.Equal(Redirected, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.IPv6Loopback, appPort)));
    }

    [Fact]
    public async Task The_agents_marked_sockets_reach_the_app()
    {
        const ushort appPort = 18081;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var redirector = fixture.OpenRedirector();
        redirector.Redirect(appPort, agent.Port);

        Assert.Equal(App, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, appPort), exemptMark: true));
        Assert.Equal(App, await FromPodAsync(_sandbox, new IPEndPoint(_sandbox.PodIP, appPort), exemptMark: true));
        Assert.Equal(App, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.IPv6Loopback, appPort), exemptMark: true));
        // The same client without the mark is redirected: the mark, not the address, exempts.
        Assert.Equal(Redirected, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, appPort)));
    }

    [Fact]
    public async Task A_mesh_redirect_at_the_nat_priority_of_iptables_keeps_precedence()
    {
        const ushort appPort = 18090, otherPort = 18091;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var other = new TaggedListener(_sandbox, App, otherPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var sidecar = new TaggedListener(_sandbox, (byte)'M');
        // A sidecar's capture as a mesh installs it: nat prerouting at -100, where iptables' nat table hooks in.
        await fixture.NftAsync("add", "table", "ip", "mesh_test");
        try
        {
            await fixture.NftAsync("add", "chain", "ip", "mesh_test", "pre", "{ type nat hook prerouting priority -100; }");
            await fixture.NftAsync("add", "rule", "ip", "mesh_test", "pre", "tcp", "dport", $"{appPort}", "redirect", "to", $":{sidecar.Port}");
            using var redirector = fixture.OpenRedirector();
            redirector.Redirect(appPort, agent.Port);
            redirector.Redirect(otherPort, agent.Port);

            // The first NAT binding wins: the mesh's, so the sidecar still sees its traffic (and would forward it over
            // lo to the app, where the output chain takes it); a port the mesh leaves alone comes to the agent.
            Assert.Equal((byte)'M', await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
            Assert.Equal(Redirected, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, otherPort)));
            // The sidecar's own forward to the app over lo is what the agent steals.
            Assert.Equal(Redirected, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, appPort)));
        }
        finally
        {
            await fixture.NftAsync("delete", "table", "ip", "mesh_test");
        }
    }

    [Fact]
    public async Task IPv6_clients_from_outside_the_pod_are_redirected_too()
    {
        const ushort appPort = 18092;
        // The sandbox link gets IPv6 addresses of its own (unique local, on-link only, gone with the veth pair);
        // nodad: redir picks the interface's first usable address, and a tentative one is not usable yet.
        var podAddress = IPAddress.Parse($"fd00:cc:{_sandbox.Index:x}::2");
        Assert.Equal(0, (await fixture.Sandbox.RunInPodAsync("ip", ["-6", "addr", "replace", $"{podAddress}/64", "dev", "eth0", "nodad"])).ExitCode);
        var host = await RunAsync("ip", "-6", "addr", "replace", $"fd00:cc:{_sandbox.Index:x}::1/64", "dev", _sandbox.HostInterface, "nodad");
        Assert.Equal(0, host);
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        Assert.Equal(App, await FromHostAsync(new IPEndPoint(podAddress, appPort)));

        using var redirector = fixture.OpenRedirector();
        redirector.Redirect(appPort, agent.Port);

        Assert.Equal(Redirected, await FromHostAsync(new IPEndPoint(podAddress, appPort)));
        Assert.Equal(Redirected, await FromPodAsync(_sandbox, new IPEndPoint(podAddress, appPort)));
    }

    [Fact]
    public async Task Many_redirects_replaced_and_removed_leave_exactly_the_rules_that_remain()
    {
        const ushort firstPort = 18200;
        const int ports = 60;
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var app = new TaggedListener(_sandbox, App, firstPort + 1);
        using var redirector = fixture.OpenRedirector();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < ports; i++)
            {
                redirector.Redirect((ushort)(firstPort + i), (ushort)(42000 + round));
            }
        }

        for (var i = 0; i < ports; i += 2)
        {
            redirector.Remove((ushort)(firstPort + i));
        }

        var listing = await fixture.NftAsync("list", "table", "inet", redirector.TableName);
        var rules = listing.Split('\n').Where(l => l.Contains("redirect to", StringComparison.Ordinal)).ToArray();
        Assert.Equal(ports, rules.Length); // 30 ports left, one rule in each chain
        Assert.All(rules, r => Assert.Contains("redirect to :42002", r, StringComparison.Ordinal));
        for (var i = 1; i < ports; i += 2)
        {
            Assert.Equal(2, rules.Count(r => r.Contains($"dport {firstPort + i} ", StringComparison.Ordinal)));
        }

        redirector.Redirect(firstPort + 1, agent.Port);
        Assert.Equal(Redirected, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, firstPort + 1)));
    }

    private static async Task<int> RunAsync(string fileName, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(fileName, arguments);
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    [Fact]
    public async Task Other_ports_stay_with_the_app()
    {
        const ushort appPort = 18082, otherPort = 18083;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var other = new TaggedListener(_sandbox, App, otherPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var redirector = fixture.OpenRedirector();
        redirector.Redirect(appPort, agent.Port);

        Assert.Equal(App, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, otherPort)));
        Assert.Equal(App, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, otherPort)));
    }

    [Fact]
    public async Task Remove_gives_new_connections_back_to_the_app_and_a_second_redirect_replaces_the_first()
    {
        const ushort appPort = 18084;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var first = new TaggedListener(_sandbox, Redirected);
        using var second = new TaggedListener(_sandbox, (byte)'S');
        using var redirector = fixture.OpenRedirector();
        var target = new IPEndPoint(_sandbox.PodIP, appPort);

        redirector.Redirect(appPort, first.Port);
        Assert.Equal(Redirected, await FromHostAsync(target));
        redirector.Redirect(appPort, second.Port);
        Assert.Equal((byte)'S', await FromHostAsync(target));
        Assert.Equal((byte)'S', await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, appPort)));

        redirector.Remove(appPort);
        Assert.Equal(App, await FromHostAsync(target));
        Assert.Equal(App, await FromPodAsync(_sandbox, new IPEndPoint(IPAddress.Loopback, appPort)));
        var ruleset = await fixture.NftAsync("list", "table", "inet", redirector.TableName);
        Assert.DoesNotContain("dport 18084", ruleset, StringComparison.Ordinal);

        redirector.Remove(appPort); // nothing left to remove: no error
        redirector.Redirect(appPort, first.Port);
        Assert.Equal(Redirected, await FromHostAsync(target));
    }

    [Fact]
    public async Task Connections_open_before_the_redirect_stay_with_the_app()
    {
        const ushort appPort = 18085;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var early = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Equal(App, await ConnectKeepingAsync(early, new IPEndPoint(_sandbox.PodIP, appPort)));

        using var redirector = fixture.OpenRedirector();
        redirector.Redirect(appPort, agent.Port);

        Assert.Equal(App, await AskAgainAsync(early));
        Assert.Equal(Redirected, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
    }

    [Fact]
    public async Task Connections_the_redirect_sent_to_the_listener_stay_with_it_after_the_redirect_goes()
    {
        const ushort appPort = 18093;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        using var redirector = fixture.OpenRedirector();
        redirector.Redirect(appPort, agent.Port);
        using var fromHost = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Equal(Redirected, await ConnectKeepingAsync(fromHost, new IPEndPoint(_sandbox.PodIP, appPort)));

        // The table's last redirect goes: new connections reach the app, while the one the redirect sent to the
        // listener is still translated both ways (the listener's answers still come from the pod's port).
        redirector.Remove(appPort);
        Assert.Equal(App, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
        Assert.Equal(Redirected, await AskAgainAsync(fromHost));
        Assert.Equal(Redirected, await AskAgainAsync(fromHost));
    }

    [Fact]
    public async Task Nft_reads_the_table_as_the_rules_the_design_names()
    {
        using var redirector = fixture.OpenRedirector();
        redirector.Redirect(18086, 41000);
        var listing = await fixture.NftAsync("list", "table", "inet", redirector.TableName);

        // nft decodes the kernel's copy of our messages back into its own language: a differential check of the encoding.
        Assert.Matches(@"^clusterctx_[0-9a-f]{8}$", redirector.TableName);
        Assert.Contains("flags owner", listing, StringComparison.Ordinal);
        Assert.Contains("type nat hook prerouting priority dstnat + 1; policy accept;", listing, StringComparison.Ordinal);
        Assert.Contains("type nat hook output priority -99; policy accept;", listing, StringComparison.Ordinal);
        Assert.Contains("\t\ttcp flags syn / syn,ack tcp dport 18086 redirect to :41000 comment \"clusterctx: port 18086\"", listing, StringComparison.Ordinal);
        Assert.Contains("oifname \"lo\" tcp flags syn / syn,ack tcp dport 18086 redirect to :41000 comment", listing, StringComparison.Ordinal);
        var keeper = listing.IndexOf("\t\tct state established comment \"clusterctx: keeps connection tracking on\"", StringComparison.Ordinal);
        var redirect = listing.IndexOf("\t\ttcp flags syn / syn,ack tcp dport 18086", StringComparison.Ordinal);
        Assert.True(keeper >= 0 && keeper < redirect, listing);
        var exemption = listing.IndexOf("meta mark 0x0000c1c7 return", StringComparison.Ordinal);
        var loRedirect = listing.IndexOf("oifname \"lo\" tcp flags", StringComparison.Ordinal);
        Assert.True(exemption >= 0 && exemption < loRedirect, listing);
    }

    [Fact]
    public async Task Dispose_removes_the_table_and_agents_of_one_pod_own_tables_of_their_own()
    {
        const ushort appPort = 18087;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        var first = fixture.OpenRedirector();
        using var second = fixture.OpenRedirector();
        Assert.NotEqual(first.TableName, second.TableName);
        first.Redirect(appPort, agent.Port);
        second.Redirect(18088, agent.Port);
        Assert.Equal(Redirected, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));

        first.Dispose();
        first.Dispose();

        var tables = await fixture.NftAsync("list", "tables");
        Assert.DoesNotContain(first.TableName, tables, StringComparison.Ordinal);
        Assert.Contains(second.TableName, tables, StringComparison.Ordinal);
        Assert.Equal(App, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
        Assert.Throws<ObjectDisposedException>(() => first.Redirect(appPort, agent.Port));
    }

    [Fact]
    public async Task Only_the_owner_changes_its_table()
    {
        using var owner = fixture.OpenRedirector();
        // Another process's socket (here: nft's) may list the table but not change it: the kernel answers EPERM.
        var result = await fixture.Sandbox.RunInPodAsync("nft", ["add", "chain", "inet", owner.TableName, "intruder"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Operation not permitted", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agents_redirector_opens_its_table_on_the_first_redirect_only()
    {
        const ushort appPort = 18089;
        using var app = new TaggedListener(_sandbox, App, appPort);
        using var agent = new TaggedListener(_sandbox, Redirected);
        var before = await fixture.NftAsync("list", "tables");
        using var redirector = PodNamespaceThread.Run(_sandbox.PodNetworkNamespacePath, () => new PortRedirector(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        redirector.Remove(appPort);
        Assert.False(redirector.IsOpen);

        // The table is made when the first Redirect runs, so in a test that call too runs in the pod's namespace.
        PodNamespaceThread.Run(_sandbox.PodNetworkNamespacePath, () =>
        {
            redirector.Redirect(appPort, agent.Port);
            return 0;
        });
        Assert.True(redirector.IsOpen);
        Assert.Equal(Redirected, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
        redirector.Dispose();
        Assert.Equal(before, await fixture.NftAsync("list", "tables"));
        Assert.Equal(App, await FromHostAsync(new IPEndPoint(_sandbox.PodIP, appPort)));
    }

    private static async Task<byte> ConnectKeepingAsync(Socket socket, IPEndPoint target)
    {
        await socket.ConnectAsync(target);
        var tag = new byte[1];
        Assert.Equal(1, await socket.ReceiveAsync(tag));
        return tag[0];
    }
}
