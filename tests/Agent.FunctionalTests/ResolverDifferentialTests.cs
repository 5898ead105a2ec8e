using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Protocol;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>
/// The agent resolves a name exactly as the pod's own glibc does: for each case, the container's resolv.conf and a
/// name server that answers each candidate as the case says; then <c>getent ahosts</c> run in the container (its
/// root, mounts and network namespace: glibc's getaddrinfo) and the agent's resolve of the same name must agree on
/// the addresses, or on there being none.
/// </summary>
[Collection(SandboxGroup.Name)]
public class ResolverDifferentialTests(SandboxAgentFixture fixture)
{
    private const string Search = "search shop.svc.cluster.local svc.cluster.local cluster.local";
    private static readonly IPAddress Server = IPAddress.Parse("127.0.0.53");

    public static TheoryData<string, string, string> Cases => new()
    {
        // name, resolv.conf options line, the server's answers: name=code|addresses;...
        { "redis", "options ndots:5 timeout:1 attempts:1", "redis.shop.svc.cluster.local=0|10.96.0.21" },
        { "db.internal", "options ndots:5 timeout:1 attempts:1", "db.internal.shop.svc.cluster.local=5;db.internal.svc.cluster.local=0|10.96.0.99;db.internal=0|192.0.2.50" },
        { "flaky", "options ndots:5 timeout:1 attempts:1", "flaky.shop.svc.cluster.local=2;flaky.svc.cluster.local=0|10.96.0.41" },
        { "nothing", "options ndots:5 timeout:1 attempts:1", "" },
        { "api.example.com", "options ndots:1 timeout:1 attempts:1", "api.example.com=0|192.0.2.10;api.example.com.shop.svc.cluster.local=0|10.0.0.1" },
        { "api.example.com", "options ndots:5 timeout:1 attempts:1", "api.example.com=0|192.0.2.10;api.example.com.cluster.local=0|10.0.0.2" },
        { "api.example.com.", "options ndots:5 timeout:1 attempts:1", "api.example.com=0|192.0.2.10;api.example.com.shop.svc.cluster.local=0|10.0.0.1" },
        { "dual", "options ndots:5 timeout:1 attempts:1", "dual.shop.svc.cluster.local=0|10.96.0.7,fd00::7" },
        { "v6only", "options ndots:5 timeout:1 attempts:1", "v6only.svc.cluster.local=0|fd00::8" },
        { "gone", "options ndots:5 timeout:1 attempts:1", "gone.shop.svc.cluster.local=5;gone=5" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_agent_resolves_as_the_pods_glibc_does(string name, string options, string answers)
    {
        var names = answers.Split(';', StringSplitOptions.RemoveEmptyEntries).ToDictionary(
            a => a[..a.IndexOf('=', StringComparison.Ordinal)],
            a =>
            {
                var value = a[(a.IndexOf('=', StringComparison.Ordinal) + 1)..].Split('|');
                return (int.Parse(value[0], System.Globalization.CultureInfo.InvariantCulture), value.Length > 1 ? value[1].Split(',').Select(IPAddress.Parse).ToArray() : Array.Empty<IPAddress>());
            });
        var resolvConf = $"/proc/{fixture.Sandbox.AppPid}/root/etc/resolv.conf";
        var original = await File.ReadAllTextAsync(resolvConf);
        await using var server = new ScriptedNameServer(fixture.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp), Server, names);
        try
        {
            await File.WriteAllTextAsync(resolvConf, $"nameserver {Server}\n{Search}\n{options}\n");

            var glibc = await GetentAsync(name);
            var agent = await AgentAsync(name);

            Assert.True(glibc.SetEquals(agent), $"{name} with '{options}': glibc {Describe(glibc)}, agent {Describe(agent)}");
        }
        finally
        {
            await File.WriteAllTextAsync(resolvConf, original);
        }
    }

    private static string Describe(HashSet<string> addresses) => addresses.Count == 0 ? "not found" : string.Join(",", addresses.Order());

    /// <summary>glibc's getaddrinfo in the container: <c>getent ahosts</c> with its root, mounts and network.</summary>
    private async Task<HashSet<string>> GetentAsync(string name)
    {
        var info = new ProcessStartInfo("nsenter", ["-t", fixture.Sandbox.AppPid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "-n", "-r", "--", "/usr/bin/getent", "ahosts", name])
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
