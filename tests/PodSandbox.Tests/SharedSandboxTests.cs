using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Xunit.Abstractions;

namespace ClusterContext.Testing.Sandbox.Tests;

public sealed class SharedSandboxTests(SandboxFixture fixture, ITestOutputHelper output) : IClassFixture<SandboxFixture>
{
    private readonly PodSandbox _sandbox = fixture.Sandbox;

    private string ContainerRoot => $"/proc/{_sandbox.AppPid}/root";

    [Fact]
    public void Sandbox_start_does_not_hang()
    {
        // Start time is a figure for the log (typically well under 2 s); the bound only catches a hung step.
        output.WriteLine($"sandbox {_sandbox.Index} started in {fixture.StartDuration.TotalMilliseconds:0} ms");
        Assert.True(fixture.StartDuration < TimeSpan.FromSeconds(20), $"start took {fixture.StartDuration}");
    }

    [Fact]
    public void App_environment_is_exactly_the_configured_environment()
    {
        var environ = File.ReadAllText($"/proc/{_sandbox.AppPid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var actual = environ.Select(e => e.Split('=', 2)).ToDictionary(e => e[0], e => e[1]);

        Assert.Equal(fixture.Options.Environment.OrderBy(e => e.Key), actual.OrderBy(e => e.Key));
        Assert.Equal("sandbox", actual["ORDERS_MODE"]);
    }

    [Fact]
    public void App_root_is_the_root_file_system_and_the_host_only_file_is_outside_it()
    {
        Assert.Equal(_sandbox.RootFsPath, new FileInfo(ContainerRoot).LinkTarget);
        Assert.True(File.Exists(_sandbox.HostOnlyPath));
        Assert.False(_sandbox.HostOnlyPath.StartsWith(_sandbox.RootFsPath + "/", StringComparison.Ordinal));
        Assert.False(File.Exists($"{ContainerRoot}/{Path.GetFileName(_sandbox.HostOnlyPath)}"));
        Assert.True(File.Exists($"{ContainerRoot}/usr/bin/env"));
    }

    [Fact]
    public void Pod_file_is_readable_through_the_container_root_but_does_not_exist_on_the_host()
    {
        Assert.Equal(fixture.Options.Files["/etc/config/app.json"], File.ReadAllBytes($"{ContainerRoot}/etc/config/app.json"));
        Assert.Equal("s3cr3t-sandbox-password", File.ReadAllText($"{ContainerRoot}/etc/secrets/db/password"));

        Assert.False(File.Exists("/etc/config/app.json"));
        Assert.False(File.Exists("/etc/secrets/db/password"));
        Assert.False(File.Exists($"{_sandbox.RootFsPath}/etc/config/app.json")); // only a mount point on the host
    }

    [Fact]
    public void File_in_a_root_directory_is_mounted_alone()
    {
        Assert.Equal("mounted alone, like a subPath\n", File.ReadAllText($"{ContainerRoot}/etc/motd"));
        Assert.Equal(0, new FileInfo($"{_sandbox.RootFsPath}/etc/motd").Length);
    }

    [Fact]
    public void Service_account_volume_has_the_kubelet_atomic_writer_layout()
    {
        var directory = $"{ContainerRoot}/var/run/secrets/kubernetes.io/serviceaccount";

        var data = new DirectoryInfo($"{directory}/..data").LinkTarget;
        Assert.NotNull(data);
        Assert.Matches(@"^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$", data);
        Assert.Equal("..data/token", new FileInfo($"{directory}/token").LinkTarget);
        Assert.Equal("..data/namespace", new FileInfo($"{directory}/namespace").LinkTarget);
        Assert.Equal(fixture.Options.ServiceAccountToken, File.ReadAllText($"{directory}/token"));
        Assert.Equal("shop", File.ReadAllText($"{directory}/namespace"));
        Assert.Equal(3, fixture.Options.ServiceAccountToken.Split('.').Length);
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText($"{directory}/ca.crt"));
        Assert.Contains("pod-sandbox-cluster-ca", ca.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public void Container_identity_files_describe_the_pod()
    {
        Assert.Equal("orders-7d9f8-abcde\n", File.ReadAllText($"{ContainerRoot}/etc/hostname"));
        Assert.Contains($"{_sandbox.PodIP}\torders-7d9f8-abcde", File.ReadAllText($"{ContainerRoot}/etc/hosts"), StringComparison.Ordinal);
        var resolvConf = File.ReadAllLines($"{ContainerRoot}/etc/resolv.conf");
        Assert.Contains($"nameserver {_sandbox.DnsServerIP}", resolvConf);
        Assert.Contains("search shop.svc.cluster.local svc.cluster.local cluster.local", resolvConf);
        Assert.Contains("options ndots:5", resolvConf);
    }

    [Fact]
    public async Task Written_pod_file_appears_in_the_container_through_a_data_swap()
    {
        var volume = $"{ContainerRoot}/etc/config";
        var before = new DirectoryInfo($"{volume}/..data").LinkTarget;

        await _sandbox.WritePodFileAsync("/etc/config/feature-flags.json", Encoding.UTF8.GetBytes("{\"newCheckout\":true}"));

        Assert.Equal("{\"newCheckout\":true}", File.ReadAllText($"{volume}/feature-flags.json"));
        Assert.NotEqual(before, new DirectoryInfo($"{volume}/..data").LinkTarget);
        Assert.False(Directory.Exists($"{volume}/{before}"));
        Assert.Equal(fixture.Options.Files["/etc/config/app.json"], File.ReadAllBytes($"{volume}/app.json"));
    }

    [Fact]
    public async Task Redis_answers_PING_from_the_pod_network_namespace()
    {
        // The address and port reach bash as $0 and $1, never as script text.
        var result = await _sandbox.RunInPodAsync(
            "/bin/bash", ["-c", "exec 3<>/dev/tcp/$0/$1; printf 'PING\\r\\n' >&3; head -c 7 <&3", _sandbox.RedisIP.ToString(), "6379"]);

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("+PONG\r\n", result.StandardOutput);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cluster_dns_answers_the_redis_service_name_from_the_pod(bool useTcp)
    {
        var answer = await _sandbox.QueryDnsInPodAsync(_sandbox.RedisHostName, useTcp);

        Assert.Equal("redis.shop.svc.cluster.local", _sandbox.RedisHostName);
        Assert.Equal(0, answer.ResponseCode);
        Assert.Equal([_sandbox.RedisIP], answer.Addresses);
    }

    [Fact]
    public async Task Cluster_dns_says_other_cluster_names_do_not_exist()
    {
        var answer = await _sandbox.QueryDnsInPodAsync("missing.shop.svc.cluster.local");

        Assert.True(answer.IsNameError);
        Assert.Empty(answer.Addresses);
    }

    [Fact]
    public async Task Service_record_added_at_runtime_resolves_from_the_pod()
    {
        var address = IPAddress.Parse($"10.241.{_sandbox.Index}.30");

        await _sandbox.AddServiceRecordAsync("web.shop.svc.cluster.local", address);

        Assert.Equal([address], (await _sandbox.QueryDnsInPodAsync("web.shop.svc.cluster.local")).Addresses);
    }

    [Fact]
    public async Task Host_cannot_reach_the_services_network_and_fails_at_once()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<SocketException>(
            async () => await socket.ConnectAsync(new IPEndPoint(_sandbox.RedisIP, PodSandbox.RedisPort), timeout.Token));

        Assert.Contains(error.SocketErrorCode, new[] { SocketError.HostUnreachable, SocketError.NetworkUnreachable });
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"connect failed only after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Host_reaches_a_listener_in_the_pod_at_the_pod_IP()
    {
        using var listener = _sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(_sandbox.PodIP, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();

        Assert.Equal(_sandbox.HostIP, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
    }

    [Fact]
    public async Task Pod_has_only_on_link_routes()
    {
        var routes = await _sandbox.RunInPodAsync("ip", ["-4", "route", "show"]);

        Assert.DoesNotContain("default", routes.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"10.240.{_sandbox.Index}.0/24 dev eth0", routes.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"10.241.{_sandbox.Index}.0/24 dev eth1", routes.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Process_started_in_the_pod_shares_its_network_but_keeps_the_host_mounts()
    {
        using var process = _sandbox.StartInPod("/usr/bin/sleep", ["30"]);
        try
        {
            var net = WaitForNamespace(process.Id, "net", expected: NamespaceOf(_sandbox.AppPid, "net"));

            Assert.Equal(NamespaceOf(_sandbox.AppPid, "net"), net);
            Assert.Equal(NamespaceOf(Environment.ProcessId, "mnt"), NamespaceOf(process.Id, "mnt"));
            Assert.NotEqual(NamespaceOf(_sandbox.AppPid, "mnt"), NamespaceOf(process.Id, "mnt"));
        }
        finally
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    private static string? NamespaceOf(int pid, string kind) => new FileInfo($"/proc/{pid}/ns/{kind}").LinkTarget;

    // nsenter enters the namespace and then execs, so the first glance may still see the host's namespace.
    private static string? WaitForNamespace(int pid, string kind, string? expected)
    {
        var stopwatch = Stopwatch.StartNew();
        string? actual;
        while ((actual = NamespaceOf(pid, kind)) != expected && stopwatch.Elapsed < TimeSpan.FromSeconds(2))
        {
            Thread.Sleep(5);
        }

        return actual;
    }
}
