using System.Text.Json.Nodes;
using ClusterContext.Kube;
using ClusterContext.Testing.Kube;

namespace ClusterContext.Tests.Kube;

/// <summary>Starting the agent as an ephemeral container through the API double's ephemeralcontainers subresource.</summary>
public sealed class EphemeralAgentTests : IAsyncLifetime, IDisposable
{
    private static readonly ResolvedTarget Target = new("shop", "orders-1", "app", "uid");
    private static readonly AgentContainerSpec Spec = new("registry.local/clusterctx-agent:1", 7777, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(2), []);
    private KubeApiServer _server = null!;
    private KubeApiClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync();
        _server.AddToken("t", "dev");
        _server.Put("pods", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders-1","namespace":"shop"},"spec":{"containers":[{"name":"app","image":"orders"}]},"status":{"phase":"Running"}}""")!);
        _client = new KubeApiClient(new KubeEndpoint("test", _server.Address, "shop", _server.Pki.AuthorityPem, false, null, null, new KubeCredentials(Token: "t")));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Agent_container_targets_the_app_container_and_carries_only_the_digest_of_a_fresh_token()
    {
        var started = new TaskCompletionSource<JsonObject>();
        _server.StartEphemeralContainer = async (_, _, container) =>
        {
            started.TrySetResult(container);
            await Task.Delay(300);
            return new JsonObject { ["running"] = new JsonObject() };
        };
        var progress = new List<string>();

        var first = await EphemeralAgent.StartAsync(_client, Target, Spec, new Sync(progress), TimeSpan.FromSeconds(30), CancellationToken.None);
        var second = await EphemeralAgent.StartAsync(_client, Target, Spec, null, TimeSpan.FromSeconds(30), CancellationToken.None);

        var container = await started.Task;
        Assert.Equal(first.Container, (string?)container["name"]);
        Assert.Equal("app", (string?)container["targetContainerName"]);
        Assert.Equal(Spec.Image, (string?)container["image"]);
        var args = container["args"]!.AsArray().Select(a => (string?)a).ToList();
        Assert.Contains("90", args);

        // The agent listens on the pod's loopback, and the spec carries the token's digest, never the token.
        Assert.Equal("127.0.0.1:7777", args[args.IndexOf("--listen") + 1]);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(first.Token))), args[args.IndexOf("--token-sha256") + 1]);
        Assert.DoesNotContain(first.Token, _server.Get("pods", "shop", "orders-1")!.ToJsonString(), StringComparison.Ordinal);
        Assert.NotEqual(first.Token, second.Token);
        Assert.NotEqual(first.Container, second.Container);
        Assert.Equal(2, _server.Get("pods", "shop", "orders-1")!["spec"]!["ephemeralContainers"]!.AsArray().Count);
        Assert.Contains(progress, p => p.Contains("ContainerCreating", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Image_pull_failure_times_out_with_the_waiting_reason()
    {
        _server.StartEphemeralContainer = (_, _, _) => Task.FromResult(new JsonObject
        {
            ["waiting"] = new JsonObject { ["reason"] = "ImagePullBackOff", ["message"] = "Back-off pulling image \"registry.local/clusterctx-agent:1\"" },
        });
        var progress = new List<string>();

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => EphemeralAgent.StartAsync(_client, Target, Spec, new Sync(progress), TimeSpan.FromSeconds(1), CancellationToken.None));

        Assert.Contains("ImagePullBackOff", ex.Message, StringComparison.Ordinal);
        Assert.Contains("agent.image", ex.Message, StringComparison.Ordinal);
        Assert.Contains(progress, p => p.Contains("ImagePullBackOff", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_agent_asks_for_no_privilege_and_runs_as_the_targets_user_so_restricted_pods_admit_it()
    {
        var started = new TaskCompletionSource<JsonObject>();
        _server.StartEphemeralContainer = (_, _, container) =>
        {
            started.TrySetResult(container);
            return Task.FromResult(new JsonObject { ["running"] = new JsonObject() });
        };

        await EphemeralAgent.StartAsync(_client, Target with { RunAs = new RunAs(1000, 3000, true) }, Spec, null, TimeSpan.FromSeconds(20), CancellationToken.None);

        var context = (await started.Task)["securityContext"]!;
        Assert.Equal("""{"capabilities":{"drop":["ALL"],"add":[]},"seccompProfile":{"type":"RuntimeDefault"},"allowPrivilegeEscalation":false,"runAsUser":1000,"runAsGroup":3000,"runAsNonRoot":true}""",
            context.ToJsonString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_start_is_followed_by_watching_the_pod_or_by_polling_where_watching_is_forbidden(bool watchForbidden)
    {
        if (watchForbidden)
        {
            _server.Deny("dev", "watch", "pods");
        }

        _server.StartEphemeralContainer = async (_, _, _) =>
        {
            await Task.Delay(200);
            return new JsonObject { ["running"] = new JsonObject() };
        };

        var started = await EphemeralAgent.StartAsync(_client, Target, Spec, null, TimeSpan.FromSeconds(20), CancellationToken.None);

        Assert.Equal("running", _server.Get("pods", "shop", "orders-1")!["status"]!["ephemeralContainerStatuses"]!.AsArray()
            .Single(c => (string?)c!["name"] == started.Container)!["state"]!.AsObject().Single().Key);
        Assert.Contains(_server.Requests, r => r.StartsWith("GET /api/v1/namespaces/shop/pods?fieldSelector=metadata.name%3Dorders-1&watch=true", StringComparison.Ordinal));
        Assert.Equal(watchForbidden, _server.Requests.Any(r => r.StartsWith("GET /api/v1/namespaces/shop/pods/orders-1 ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_agent_that_exits_at_once_is_reported_with_its_exit_code_and_last_words_without_waiting_for_the_timeout()
    {
        _server.StartEphemeralContainer = (_, _, _) => Task.FromResult(new JsonObject
        {
            ["terminated"] = new JsonObject { ["exitCode"] = 3, ["reason"] = "Error", ["message"] = "crit: Cannot listen on 127.0.0.1:7777: Address already in use.\n" },
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<AgentContainerExitedException>(() => EphemeralAgent.StartAsync(_client, Target, Spec, null, TimeSpan.FromSeconds(30), CancellationToken.None));

        Assert.Equal(AgentContainerExitedException.ListenFailed, ex.ExitCode);
        Assert.Contains("Address already in use", ex.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "It waited for the timeout.");
    }

    [Fact]
    public async Task Missing_rbac_names_the_verb_and_resource()
    {
        _server.Deny("dev", "patch", "pods/ephemeralcontainers");

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => EphemeralAgent.StartAsync(_client, Target, Spec, null, TimeSpan.FromSeconds(5), CancellationToken.None));

        Assert.Equal(403, ex.StatusCode);
        Assert.Contains("'patch' on resource 'pods/ephemeralcontainers'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_without_ephemeral_containers_is_named_as_such()
    {
        _server.Subresources.TryRemove("ephemeralcontainers", out _);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => EphemeralAgent.StartAsync(_client, Target, Spec, null, TimeSpan.FromSeconds(5), CancellationToken.None));

        Assert.Contains("does not offer ephemeral containers", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_target_container_the_pod_lacks_is_refused_as_invalid()
    {
        var ex = await Assert.ThrowsAsync<KubeApiException>(() => EphemeralAgent.StartAsync(_client, Target with { Container = "nope" }, Spec, null, TimeSpan.FromSeconds(5), CancellationToken.None));

        Assert.Equal(422, ex.StatusCode);
        Assert.Contains("targetContainerName: Not found: \"nope\"", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Progress reported synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class Sync(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines)
            {
                lines.Add(value);
            }
        }
    }
    [Fact]
    public async Task Incoming_traffic_adds_NET_ADMIN_and_nothing_else_and_only_then()
    {
        var containers = new List<JsonObject>();
        _server.StartEphemeralContainer = (_, _, container) =>
        {
            lock (containers)
            {
                containers.Add(container);
            }

            return Task.FromResult(new JsonObject { ["running"] = new JsonObject() });
        };
        var off = new ClusterContextOptions();
        var steal = new ClusterContextOptions();
        steal.Network.Incoming.Mode = IncomingTrafficMode.Steal;
        var mirror = new ClusterContextOptions();
        mirror.Network.Incoming.Mode = IncomingTrafficMode.Mirror;

        foreach (var options in new[] { off, steal, mirror })
        {
            await EphemeralAgent.StartAsync(_client, Target, Spec with { Capabilities = ClusterContext.Session.KubeConnector.Capabilities(options) }, null, TimeSpan.FromSeconds(20), CancellationToken.None);
        }

        var added = containers.Select(c => c["securityContext"]!["capabilities"]!.ToJsonString()).ToList();
        Assert.Equal(["""{"drop":["ALL"],"add":[]}""", """{"drop":["ALL"],"add":["NET_ADMIN"]}""", """{"drop":["ALL"],"add":["NET_ADMIN"]}"""], added);
        Assert.All(containers, c => Assert.Equal(false, (bool?)c["securityContext"]!["allowPrivilegeEscalation"]));
    }

    [Theory]
    [InlineData("baseline")]
    [InlineData("restricted")]
    public async Task A_Pod_Security_level_that_refuses_NET_ADMIN_is_named_with_the_label_to_change(string level)
    {
        _server.PodSecurityEnforce["shop"] = level;
        _server.StartEphemeralContainer = (_, _, _) => Task.FromResult(new JsonObject { ["running"] = new JsonObject() });

        // Without incoming traffic the agent asks for nothing, and either level admits it.
        await EphemeralAgent.StartAsync(_client, Target, Spec, null, TimeSpan.FromSeconds(20), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<KubeApiException>(() =>
            EphemeralAgent.StartAsync(_client, Target, Spec with { Capabilities = ["NET_ADMIN"] }, null, TimeSpan.FromSeconds(5), CancellationToken.None));

        Assert.Equal(403, ex.StatusCode);
        Assert.Contains($"namespace 'shop' enforces Pod Security level '{level}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pod-security.kubernetes.io/enforce=privileged", ex.Message, StringComparison.Ordinal);
        Assert.Contains("NET_ADMIN", ex.Message, StringComparison.Ordinal);
        Assert.Contains("network.incoming.mode", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"violates PodSecurity \"{level}:latest\"", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("RBAC", ex.Message, StringComparison.Ordinal);
    }
}
