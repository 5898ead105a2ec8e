using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ClusterContext.Kube;
using ClusterContext.Protocol;
using ClusterContext.Session;
using ClusterContext.Testing;
using ClusterContext.Testing.Kube;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// <c>"target": "deployment/orders"</c> with a kubeconfig pointing at the API double: the library resolves the pod,
/// starts the real agent as an ephemeral container in the pod sandbox, and runs the session over a port-forward.
/// </summary>
[Collection(PodGroup.Name)]
public sealed class KubeTargetTests(PodFixture pod)
{
    [Fact]
    public async Task An_unmodified_app_runs_in_the_context_of_a_deployment_through_the_kubernetes_api()
    {
        await using var server = await KubeApiServer.StartAsync();
        PutOrders(server);
        var podName = pod.Sandbox.PodName;
        await using var kubelet = new SandboxKubelet(server, pod.Sandbox, podName);
        var kubeconfig = server.WriteKubeconfig(Path.Combine(pod.Sandbox.TempPath, "kubeconfig"), "dev-token");
        var appContainerRoot = Directory.GetFileSystemEntries($"/proc/{pod.Sandbox.AppPid}/root/").Order().ToList();

        var run = await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["KUBECONFIG"] = kubeconfig,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
            ["CLUSTERCONTEXT_REQUIRED"] = "true",
            ["ORDERS_MODE"] = null,
        }, null, "env:ORDERS_MODE", $"read:{PodFixture.ConfigFile}", $"redis:{pod.Sandbox.RedisHostName}");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
        Assert.Equal(PodFixture.ConfigText, run[$"read:{PodFixture.ConfigFile}"]);
        Assert.Equal("+PONG", run[$"redis:{pod.Sandbox.RedisHostName}"]);
        var agent = Assert.Single(kubelet.Agents);
        var patched = server.Get("pods", "shop", podName)!;
        Assert.Equal("app", (string?)patched["spec"]!["ephemeralContainers"]![0]!["targetContainerName"]);
        Assert.Contains(server.Requests, r => r.StartsWith($"GET /api/v1/namespaces/shop/pods/{podName}/portforward?ports=", StringComparison.Ordinal));

        // The agent leaves on its own soon after the session is over (and the pod says so); the app container is as it was.
        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await WaitForAsync(() => (string?)server.Get("pods", "shop", podName)!["status"]!["ephemeralContainerStatuses"]![0]!["state"]!["terminated"]?["reason"] == "Completed");
        Assert.False(pod.Agent.HasExited);
        Assert.Equal(appContainerRoot, Directory.GetFileSystemEntries($"/proc/{pod.Sandbox.AppPid}/root/").Order().ToList());
    }

    /// <summary>
    /// With <paramref name="apiServerRoutedToPod"/>, the API server listens on an address the app's configuration sends
    /// through the pod: reconnecting must reach it directly, not through the session it is restoring.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_session_lost_mid_run_is_set_up_again_with_a_new_agent_and_the_app_goes_on(bool apiServerRoutedToPod)
    {
        await using var server = await KubeApiServer.StartAsync(listenAddress: apiServerRoutedToPod ? pod.Sandbox.HostIP : null);
        PutOrders(server);
        await using var kubelet = new SandboxKubelet(server, pod.Sandbox, pod.Sandbox.PodName);
        var folder = Directory.CreateTempSubdirectory("clustercontext-e2e-reconnect-").FullName;
        var kubeconfig = server.WriteKubeconfig(Path.Combine(folder, "kubeconfig"), "dev-token");
        var resume = Path.Combine(folder, "resume");
        if (apiServerRoutedToPod)
        {
            // The server's certificate names "kubernetes", not this address.
            File.WriteAllText(kubeconfig, File.ReadAllText(kubeconfig).Replace("    server: ", "    tls-server-name: kubernetes\n    server: ", StringComparison.Ordinal));
            File.WriteAllText(Path.Combine(folder, "clustercontext.json"), $$"""{ "network": { "outgoing": { "remote": ["{{pod.Sandbox.HostIP}}/32"] } } }""");
        }

        try
        {
            var app = AppRun.StartAsync(new Dictionary<string, string?>
            {
                ["KUBECONFIG"] = kubeconfig,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["CLUSTERCONTEXT_REQUIRED"] = "true",
            }, folder, $"redis:{pod.Sandbox.RedisHostName}", $"pause:{resume}", $"redis:{pod.Sandbox.RedisHostName}");
            Assert.Equal($"redis:{pod.Sandbox.RedisHostName}\t+PONG", await app.NextLineAsync());

            // The agent goes away (its pod-side end of the port-forward closes); the hook starts another one.
            await Assert.Single(kubelet.Agents).DisposeAsync();
            await WaitForAsync(() => kubelet.Agents.Count == 2 && !kubelet.Agents.Last().HasExited);
            await File.WriteAllTextAsync(resume, "go");
            var run = await app.CompleteAsync();

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("+PONG", run[$"redis:{pod.Sandbox.RedisHostName}"]);
            Assert.Contains("was lost", run.Output, StringComparison.Ordinal);
            Assert.Contains("Reconnected", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task An_agent_that_listens_a_moment_after_its_container_runs_is_reached_by_retrying_with_the_same_credentials()
    {
        await using var server = await KubeApiServer.StartAsync();
        PutOrders(server);
        await using var kubelet = new SandboxKubelet(server, pod.Sandbox, pod.Sandbox.PodName) { ListenDelay = TimeSpan.FromSeconds(1) };
        server.AddToken("from-plugin", "developer");
        var folder = Directory.CreateTempSubdirectory("clustercontext-e2e-exec-").FullName;
        try
        {
            var runs = Path.Combine(folder, "runs");
            var plugin = Path.Combine(folder, "token.sh");
            File.WriteAllText(plugin, $$$"""
                #!/bin/sh
                echo "run ${SSL_CERT_FILE-unset} ${SSL_CERT_DIR-unset}" >> '{{{runs}}}'
                echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}'
                """);
            File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var kubeconfig = Path.Combine(folder, "kubeconfig");
            File.WriteAllText(kubeconfig, $"""
                apiVersion: v1
                kind: Config
                current-context: sandbox
                clusters:
                - name: sandbox
                  cluster:
                    server: {server.Address}
                    certificate-authority-data: {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(server.Pki.AuthorityPem))}
                users:
                - name: developer
                  user:
                    exec:
                      apiVersion: client.authentication.k8s.io/v1
                      command: {plugin}
                      interactiveMode: Never
                contexts:
                - name: sandbox
                  context:
                    cluster: sandbox
                    user: developer
                    namespace: shop
                """);

            var run = await AppRun.RunAsync(new Dictionary<string, string?>
            {
                ["KUBECONFIG"] = kubeconfig,
                ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
                ["CLUSTERCONTEXT_REQUIRED"] = "true",
                // The plugin sees the machine's root store as the app had it (the session host points its own away).
                ["SSL_CERT_FILE"] = "/etc/ssl/certs/ca-certificates.crt",
                ["SSL_CERT_DIR"] = null,
            }, null, "env:ORDERS_MODE");

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
            Assert.True(server.Requests.Count(r => r.Contains("/portforward?", StringComparison.Ordinal)) > 1, "The first port-forward should have found no agent listening yet.");
            // One plugin run for every attempt, with the machine's trust settings.
            Assert.Equal("run /etc/ssl/certs/ca-certificates.crt unset", Assert.Single(File.ReadAllLines(runs)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The Role in docs/clustercontext-rbac.yaml, bound to the user alone, is enough; without any rule this path uses, the app stops naming it.</summary>
    [Fact]
    public async Task The_documented_role_is_all_the_user_needs_and_each_rule_it_uses_is_needed()
    {
        var rules = DocumentedRole();
        Assert.Equal(0, (await RunAsUserWithAsync(rules)).ExitCode);

        // Every rule but the jobs one is used on the way to a deployment's pod.
        foreach (var rule in rules.Where(r => !r.Resources.Contains("jobs")))
        {
            var run = await RunAsUserWithAsync([.. rules.Where(r => r != rule)]);
            Assert.True(run.ExitCode == 3, $"Without {string.Join(",", rule.Resources)} the app ran:{Environment.NewLine}{run.Output}");
            var resource = System.Text.RegularExpressions.Regex.Escape(rule.Resources[0]);
            Assert.Matches($@"cannot \w+ resource ""{resource}""|may not \w+ {resource}", run.Output);
        }
    }

    private async Task<AppRun> RunAsUserWithAsync(IReadOnlyList<RoleRule> rules)
    {
        await using var server = await KubeApiServer.StartAsync();
        PutOrders(server);
        await using var kubelet = new SandboxKubelet(server, pod.Sandbox, pod.Sandbox.PodName);
        server.Bind("developer", rules);
        var kubeconfig = server.WriteKubeconfig(Path.Combine(pod.Sandbox.TempPath, $"kubeconfig-{Guid.NewGuid():N}"), "dev-token");
        return await AppRun.RunAsync(new Dictionary<string, string?>
        {
            ["KUBECONFIG"] = kubeconfig,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
            ["CLUSTERCONTEXT_REQUIRED"] = "true",
        }, null, "env:ORDERS_MODE");
    }

    /// <summary>The rules of the Role in docs/clustercontext-rbac.yaml.</summary>
    private static List<RoleRule> DocumentedRole()
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(AppRun.RepositoryRoot, "docs", "clustercontext-rbac.yaml"))));
        var role = stream.Documents.Select(d => (YamlDotNet.RepresentationModel.YamlMappingNode)d.RootNode)
            .Single(d => d["kind"].ToString() == "Role");
        static List<string> Strings(YamlDotNet.RepresentationModel.YamlNode rule, string key) =>
            [.. ((YamlDotNet.RepresentationModel.YamlSequenceNode)rule[key]).Children.Select(c => c.ToString())];
        return [.. ((YamlDotNet.RepresentationModel.YamlSequenceNode)role["rules"]).Children
            .Select(r => new RoleRule(Strings(r, "apiGroups"), Strings(r, "resources"), Strings(r, "verbs")))];
    }

    /// <summary>
    /// Anyone who may read pod specs, or who can reach the pod's address, must not be able to open a session: the
    /// agent listens on the pod's loopback (a port-forward arrives there) and the spec holds only the token's digest.
    /// </summary>
    [Fact]
    public async Task The_agent_admits_only_a_port_forward_that_presents_the_session_token_and_the_pod_spec_holds_none()
    {
        await using var server = await KubeApiServer.StartAsync();
        PutOrders(server);
        await using var kubelet = new SandboxKubelet(server, pod.Sandbox, pod.Sandbox.PodName);
        server.AddToken("reader-token", "developer");
        using var api = new KubeApiClient(new KubeEndpoint("sandbox", server.Address, "shop", server.Pki.AuthorityPem, false, null, null, new KubeCredentials(Token: "reader-token")));
        var target = await TargetResolver.ResolveAsync(api, KubeTarget.Parse("deployment/orders"), "shop", CancellationToken.None);
        var port = System.Security.Cryptography.RandomNumberGenerator.GetInt32(40000, 60000);
        var spec = new AgentContainerSpec(AgentSettings.DefaultImage, port, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1), []);
        var started = await EphemeralAgent.StartAsync(api, target, spec, null, TimeSpan.FromSeconds(30), CancellationToken.None);
        var agent = Assert.Single(kubelet.Agents);

        // It listens, on the pod's loopback: reachable from inside the pod, refused from another namespace (the host's,
        // and the services' — another workload of the cluster) at the pod's address.
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), agent.EndPoint);
        using (var inPod = pod.Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await inPod.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        }

        foreach (var (outside, podAddress) in new[]
        {
            (new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), pod.Sandbox.PodIP),
            (pod.Sandbox.CreateServicesSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), pod.Sandbox.PodServicesLinkIP),
        })
        {
            using (outside)
            {
                var refused = await Assert.ThrowsAsync<SocketException>(() => outside.ConnectAsync(new IPEndPoint(podAddress, port)));
                Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            }
        }

        // Every value a reader of the pod sees (the whole pod object, as the API serves it) is refused as a token; the
        // session's token, which travels only inside the port-forward, is admitted.
        var served = server.Get("pods", "shop", pod.Sandbox.PodName)!;
        Assert.DoesNotContain(started.Token, served.ToJsonString(), StringComparison.Ordinal);
        var candidates = Strings(served).Distinct(StringComparer.Ordinal).ToList();
        Assert.Contains(candidates, c => c.Length == 64 && c.All(char.IsAsciiHexDigit)); // the digest is there, and is tried
        foreach (var candidate in candidates.Append(""))
        {
            await using var stream = await PortForwardStream.OpenAsync(api, "shop", pod.Sandbox.PodName, port, CancellationToken.None);
            var refusal = await Assert.ThrowsAsync<RemoteException>(() => AgentClient.ConnectAsync(stream, candidate));
            Assert.Equal(ErrorCode.Unauthorized, refusal.Code);
        }

        await using (var stream = await PortForwardStream.OpenAsync(api, "shop", pod.Sandbox.PodName, port, CancellationToken.None))
        await using (var session = await AgentClient.ConnectAsync(stream, started.Token))
        {
            Assert.Equal(pod.Sandbox.AppPid, session.Agent.TargetPid);
        }

        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value).Append(p.Key)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var text) => [text, .. text.Split([' ', ':', '='], StringSplitOptions.RemoveEmptyEntries)],
        _ => [],
    };

    /// <summary>Deployment orders and its one pod, the fixture's sandbox.</summary>
    private void PutOrders(KubeApiServer server)
    {
        server.Put("deployments", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders","namespace":"shop"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"orders"}}}}""")!);
        server.Put("pods", SandboxKubelet.PodObject(pod.Sandbox, pod.Sandbox.PodName, "app", "orders:1", new Dictionary<string, string> { ["app"] = "orders" }, 8080));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 50)
        {
            Assert.True(waited < 30_000, "The condition did not hold within 30 s.");
            await Task.Delay(50);
        }
    }
}
