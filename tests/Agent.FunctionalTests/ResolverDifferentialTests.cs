using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>
/// The agent resolves a name exactly as the pod's own glibc does: for each case, the container's resolv.conf (and
/// hosts file), and name servers of the tests' own that answer each candidate as the case says; then <c>getent ahosts</c>
/// run in the container (its root, mounts and network namespace: glibc's getaddrinfo for any family) and the agent's
/// resolve of the same name must agree on the addresses, or on there being none; and, where glibc's choice of server
/// is not random, on the queries each server saw.
/// </summary>
[Collection(SandboxGroup.Name)]
public class ResolverDifferentialTests(SandboxAgentFixture fixture)
{
    private const string Search = "search shop.svc.cluster.local svc.cluster.local cluster.local";
    private const string Fast = "options ndots:5 timeout:1 attempts:1";
    private const string PodHosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";

    /// <summary>name, resolv.conf lines (the pod's search line is added unless one is given), each name server's script
    /// (see <see cref="ScriptedNameServer"/>; "closed": nothing listens there), the hosts file ("" keeps the pod's),
    /// whether the queries each server saw must be the same, /etc/host.conf ("": none, glibc's defaults).</summary>
    public static TheoryData<string, string, string[], string, bool, string> Cases => new()
    {
        // The search list, ndots and the name as it is.
        { "redis", Fast, ["redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "nothing", Fast, [""], "", true, "" },
        { "api.example.com", "options ndots:1 timeout:1 attempts:1", ["api.example.com=0|192.0.2.10;api.example.com.shop.svc.cluster.local=0|10.0.0.1"], "", true, "" },
        { "api.example.com", Fast, ["api.example.com=0|192.0.2.10;api.example.com.cluster.local=0|10.0.0.2"], "", true, "" },
        { "a.b", "options ndots:1 timeout:1 attempts:1", ["a.b.svc.cluster.local=0|10.0.0.12"], "", true, "" },
        { "api.example.com.", Fast, ["api.example.com=0|192.0.2.10;api.example.com.shop.svc.cluster.local=0|10.0.0.1"], "", true, "" },
        { "redis.", Fast, ["redis.shop.svc.cluster.local=0|10.96.0.21;redis=0|192.0.2.21"], "", true, "" },
        { "redis", "options ndots:0 timeout:1 attempts:1", ["redis=0|192.0.2.7;redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "redis", "options ndots:0 timeout:1 attempts:1", ["redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "solo", Fast, ["solo=0|192.0.2.9"], "", true, "" },
        { "solo", Fast + " no-tld-query", ["solo=0|192.0.2.9"], "", true, "" },
        { "deep", "search a1.example a2.example a3.example a4.example a5.example a6.example a7.example\n" + Fast, ["deep.a7.example=0|10.0.0.77"], "", true, "" },
        { "svc", "search shop.example . cluster.local\n" + Fast, ["svc=0|192.0.2.44;svc.cluster.local=0|10.0.0.44"], "", true, "" },
        { "twice", "search a.example a.example b.example\n" + Fast, ["twice.a.example=5;twice.b.example=0|10.0.0.2;twice=0|192.0.2.2"], "", true, "" },

        // Response codes per candidate.
        { "db.internal", Fast, ["db.internal.shop.svc.cluster.local=5;db.internal.svc.cluster.local=0|10.96.0.99;db.internal=0|192.0.2.50"], "", true, "" },
        { "flaky", Fast, ["flaky.shop.svc.cluster.local=2;flaky.svc.cluster.local=0|10.96.0.41"], "", true, "" },
        { "gone", Fast, ["gone.shop.svc.cluster.local=5;gone=5"], "", true, "" },
        { "notimp", Fast, ["notimp.shop.svc.cluster.local=4;notimp.svc.cluster.local=0|10.0.0.4;notimp=0|192.0.2.4"], "", true, "" },
        { "formerr", Fast, ["formerr.shop.svc.cluster.local=1;formerr.svc.cluster.local=0|10.0.0.5;formerr=0|192.0.2.5"], "", true, "" },
        { "nodata", Fast, ["nodata.shop.svc.cluster.local=0;nodata.svc.cluster.local=0|10.0.0.6"], "", true, "" },

        // Families: no data for one type, codes per type.
        { "dual", Fast, ["dual.shop.svc.cluster.local=0|10.96.0.7,fd00::7"], "", true, "" },
        { "v6only", Fast, ["v6only.svc.cluster.local=0|fd00::8"], "", true, "" },
        { "v4only", Fast, ["v4only.shop.svc.cluster.local=0|10.0.0.8"], "", true, "" },
        { "half", Fast, ["half.shop.svc.cluster.local/A=5;half.shop.svc.cluster.local/AAAA=0;half.svc.cluster.local=0|10.0.0.36"], "", true, "" },
        { "halfv6", Fast, ["halfv6.shop.svc.cluster.local/A=0|10.0.0.37;halfv6.shop.svc.cluster.local/AAAA=5"], "", true, "" },
        { "odd", Fast, ["odd.shop.svc.cluster.local/A=3;odd.shop.svc.cluster.local/AAAA=0|fd00::38"], "", true, "" },
        { "quiet6", Fast, ["quiet6.shop.svc.cluster.local/A=0|10.0.0.39;quiet6.shop.svc.cluster.local/AAAA=silent"], "", false, "" },
        { "dual", Fast + " no-aaaa", ["dual.shop.svc.cluster.local=0|10.96.0.7,fd00::7"], "", true, "" },
        { "dual", Fast + " single-request", ["dual.shop.svc.cluster.local=0|10.96.0.7,fd00::7"], "", true, "" },

        // Timeouts, attempts.
        { "db.internal", Fast, ["db.internal.shop.svc.cluster.local=silent;db.internal=0|192.0.2.50"], "", true, "" },
        { "slow", Fast, ["slow.svc.cluster.local=silent;slow.cluster.local=0|10.0.0.3;slow=0|192.0.2.3"], "", true, "" },
        { "gone", "options ndots:5 timeout:1 attempts:2", ["gone.shop.svc.cluster.local=5;gone=5"], "", true, "" },
        { "flaky", "options ndots:5 timeout:1 attempts:3", ["flaky.shop.svc.cluster.local=2;flaky.svc.cluster.local=0|10.96.0.41"], "", true, "" },
        { "redis", "options ndots:5 timeout:1 attempts:0", ["redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },

        // Several name servers.
        { "redis", Fast, ["redis.shop.svc.cluster.local=5", "redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "redis", Fast, ["redis.shop.svc.cluster.local=2", "redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "redis", Fast, ["redis.shop.svc.cluster.local=lame", "redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "redis", Fast, ["redis.shop.svc.cluster.local=silent", "redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "redis", Fast, ["closed", "redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "redis", Fast, ["redis.shop.svc.cluster.local=3", "redis.shop.svc.cluster.local=0|10.96.0.21;redis.svc.cluster.local=0|10.0.0.21"], "", true, "" },
        { "redis", Fast, ["redis.shop.svc.cluster.local=5", "redis.shop.svc.cluster.local=5", "redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },
        { "redis", Fast + " rotate", ["redis.shop.svc.cluster.local=5", "redis.shop.svc.cluster.local=0|10.96.0.21"], "", false, "" },
        { "nothing", Fast, ["closed", "closed"], "", true, "" },

        // CNAMEs.
        { "www", Fast, ["www.shop.svc.cluster.local=cname:lb.example.net;lb.example.net=0|192.0.2.80,2001:db8::80"], "", true, "" },
        { "chain", Fast, ["chain.shop.svc.cluster.local=cname:c1.example;c1.example=cname:c2.example;c2.example=0|192.0.2.81"], "", true, "" },
        { "alias", Fast, ["alias.shop.svc.cluster.local=cname:nowhere.example;alias.svc.cluster.local=0|10.0.0.9"], "", true, "" },
        { "loop", Fast, ["loop.shop.svc.cluster.local=cname:loop2.example;loop2.example=cname:loop.shop.svc.cluster.local;loop.svc.cluster.local=0|10.0.0.10"], "", true, "" },
        { "stray", Fast, ["stray.shop.svc.cluster.local=stray:elsewhere.example|192.0.2.66"], "", true, "" },

        // Truncation and TCP.
        { "big", Fast, ["big.shop.svc.cluster.local=tc|10.0.0.50,10.0.0.51,fd00::50"], "", true, "" },
        { "big", Fast, ["big.shop.svc.cluster.local=5", "big.shop.svc.cluster.local=tc|10.0.0.50,10.0.0.51"], "", true, "" },
        { "redis", Fast + " use-vc", ["redis.shop.svc.cluster.local=0|10.96.0.21"], "", true, "" },

        // The hosts file first.
        { "redis", Fast, ["redis.shop.svc.cluster.local=0|10.96.0.21"], PodHosts + "10.1.1.1 redis\n", true, "" },
        { "ALIAS-db", Fast, ["alias-db.shop.svc.cluster.local=0|10.96.0.22"], PodHosts + "10.1.1.2 primary.db alias-db\n10.1.1.3 alias-DB\n", true, "" },
        { "web.", Fast, ["web=0|192.0.2.90"], PodHosts + "10.1.1.4 web\n", true, "" },
        { "localhost", Fast, ["localhost=0|192.0.2.1"], "10.1.1.5 other\n", true, "" },
        { "localhost", Fast, [""], PodHosts, true, "" },
        { "ip6-localhost", Fast, [""], PodHosts, true, "" },
        { "ALIAS-db", Fast, [""], PodHosts + "10.1.1.2 primary.db alias-db\n10.1.1.3 alias-DB\n", true, "multi on\n" },
        { "localhost", Fast, [""], PodHosts, true, "# Debian's\nmulti on\n" },
        { "localhost", Fast, [""], PodHosts, true, "multi on\nmulti off\n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_agent_resolves_as_the_pods_glibc_does(string name, string conf, string[] servers, string hosts, bool sameQueries, string hostConf)
    {
        var root = $"/proc/{fixture.Sandbox.AppPid}/root/etc/";
        var originalConf = await File.ReadAllTextAsync(root + "resolv.conf");
        var originalHosts = await File.ReadAllTextAsync(root + "hosts");
        Assert.False(File.Exists(root + "host.conf"), "the pod sandbox's image has no host.conf");
        var nameServers = new List<ScriptedNameServer?>();
        try
        {
            var lines = new List<string>();
            for (var i = 0; i < servers.Length; i++)
            {
                var address = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.{53 + i}"));
                lines.Add($"nameserver {address}");
                nameServers.Add(servers[i] == "closed"
                    ? null
                    : new ScriptedNameServer((type, protocol) => fixture.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, type, protocol), address, servers[i]));
            }

            lines.Add(conf.Contains("search ", StringComparison.Ordinal) ? conf : $"{Search}\n{conf}");
            await File.WriteAllTextAsync(root + "resolv.conf", string.Join('\n', lines) + "\n");
            if (hosts.Length > 0)
            {
                await File.WriteAllTextAsync(root + "hosts", hosts);
            }

            if (hostConf.Length > 0)
            {
                await File.WriteAllTextAsync(root + "host.conf", hostConf);
            }

            var glibc = await GetentAsync(name);
            var glibcQueries = TakeQueries(nameServers);
            var agent = await AgentAsync(name);
            var agentQueries = TakeQueries(nameServers);

            var what = $"{name} with '{conf.ReplaceLineEndings(" / ")}', servers [{string.Join(" | ", servers)}]";
            Assert.True(glibc.SetEquals(agent), $"{what}: glibc {Describe(glibc)}, agent {Describe(agent)}");
            if (sameQueries)
            {
                Assert.True(glibcQueries == agentQueries, $"{what}: glibc asked {glibcQueries}; the agent asked {agentQueries}");
            }
        }
        finally
        {
            foreach (var server in nameServers.OfType<ScriptedNameServer>())
            {
                await server.DisposeAsync();
            }

            await File.WriteAllTextAsync(root + "resolv.conf", originalConf);
            await File.WriteAllTextAsync(root + "hosts", originalHosts);
            File.Delete(root + "host.conf");
        }
    }

    private static string Describe(HashSet<string> addresses) => addresses.Count == 0 ? "not found" : string.Join(",", addresses.Order());

    /// <summary>What each server was asked, in order (A and AAAA of one candidate sorted, since they travel together).</summary>
    private static string TakeQueries(List<ScriptedNameServer?> servers) => string.Join(" | ", servers.Select((s, i) =>
    {
        var queries = new List<string>();
        while (s is not null && s.Queries.TryDequeue(out var query))
        {
            queries.Add(query);
        }

        return $"#{i + 1}: " + string.Join(", ", queries.Order(StringComparer.Ordinal).GroupBy(q => q).Select(g => $"{g.Key} x{g.Count()}"));
    }));

    /// <summary>glibc's getaddrinfo in the container: <c>getent ahosts</c> with its root, mounts and network.</summary>
    private async Task<HashSet<string>> GetentAsync(string name)
    {
        var info = new ProcessStartInfo("nsenter", ["-t", fixture.Sandbox.AppPid.ToString(CultureInfo.InvariantCulture), "-m", "-n", "-r", "--", "/usr/bin/getent", "ahosts", name])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode is 0 or 2, $"getent ahosts {name}: exit code {process.ExitCode}: {await process.StandardError.ReadToEndAsync()}");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0])];
    }

    private async Task<HashSet<string>> AgentAsync(string name)
    {
        await using var client = await fixture.ConnectAsync();
        try
        {
            var answer = await client.ResolveAsync(name);
            return [.. answer.Addresses.Select(a => a.ToString())];
        }
        catch (RemoteException ex) when (ex.Code is ErrorCode.NameNotFound or ErrorCode.NameResolutionFailed)
        {
            return [];
        }
    }
}
