using System.Text.Json.Nodes;
using ClusterContext.Kube;
using ClusterContext.Testing.Kube;

namespace ClusterContext.Tests.Kube;

/// <summary>Target resolution against the API server double.</summary>
public sealed class TargetResolverTests : IAsyncLifetime, IDisposable
{
    private KubeApiServer _server = null!;
    private KubeApiClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync();
        _server.AddToken("t", "tester");
        var pki = _server.Pki.AuthorityPem;
        _client = new KubeApiClient(new KubeEndpoint("test", _server.Address, "shop", pki, false, null, null, new KubeCredentials(Token: "t")));
        Workload("deployments", "orders", "app", "orders");
        Workload("statefulsets", "db", "app", "db");
        Workload("jobs", "migrate", "job-name", "migrate");
        Workload("replicasets", "empty", "app", "nothing");
        Pod("orders-old-restarts", "orders", readySince: "2026-01-01T00:00:00Z", restarts: 3);
        Pod("orders-best", "orders", readySince: "2026-01-01T00:00:00Z", restarts: 0);
        Pod("orders-newer", "orders", readySince: "2026-01-02T00:00:00Z", restarts: 0);
        Pod("orders-pending", "orders", phase: "Pending", waiting: "ImagePullBackOff");
        Pod("db-0", "db", readySince: null, waiting: "CrashLoopBackOff");
        Pod("migrate-x", "migrate", readySince: "2026-01-01T00:00:00Z", containers: ["main", "proxy"], defaultContainer: "proxy");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _client.Dispose();

    [Theory]
    [InlineData("deployment/orders", "orders-best", "app")]
    [InlineData("job/migrate", "migrate-x", "proxy")]
    [InlineData("job/migrate/container/main", "migrate-x", "main")]
    [InlineData("orders-newer", "orders-newer", "app")]
    [InlineData("pod/orders-newer/container/app", "orders-newer", "app")]
    public async Task Resolves_to_the_preferred_ready_pod_and_container(string target, string pod, string container)
    {
        var resolved = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse(target), "shop", CancellationToken.None);

        Assert.Equal((pod, container, "shop"), (resolved.Pod, resolved.Container, resolved.Namespace));
        Assert.NotEmpty(resolved.Uid);
    }

    [Fact]
    public async Task A_set_based_selector_is_sent_as_the_api_understands_it()
    {
        _server.Put("deployments", (JsonObject)JsonNode.Parse("""
            {"metadata":{"name":"orders-stable","namespace":"shop"},
             "spec":{"selector":{"matchExpressions":[{"key":"app","operator":"In","values":["orders","legacy-orders"]},{"key":"track","operator":"DoesNotExist"}]}}}
            """)!);

        var resolved = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse("deploy/orders-stable"), "shop", CancellationToken.None);

        Assert.Equal("orders-best", resolved.Pod);
        Assert.Contains(_server.Requests, r => r.Contains("labelSelector=app%20in%20%28orders%2Clegacy-orders%29%2C%21track", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_containers_user_is_its_own_security_context_over_the_pods()
    {
        _server.Update("pods", "shop", "migrate-x", pod =>
        {
            pod["spec"]!["securityContext"] = new JsonObject { ["runAsUser"] = 1000, ["runAsGroup"] = 3000, ["runAsNonRoot"] = true };
            pod["spec"]!["containers"]![0]!["securityContext"] = new JsonObject { ["runAsUser"] = 2000 };
        });

        var main = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse("pod/migrate-x/container/main"), "shop", CancellationToken.None);
        var proxy = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse("pod/migrate-x/container/proxy"), "shop", CancellationToken.None);
        var plain = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse("pod/orders-best"), "shop", CancellationToken.None);

        Assert.Equal(new RunAs(2000, 3000, true), main.RunAs);
        Assert.Equal(new RunAs(1000, 3000, true), proxy.RunAs);
        Assert.Null(plain.RunAs);
    }

    [Fact]
    public async Task The_containers_declared_TCP_ports_are_its_own()
    {
        _server.Update("pods", "shop", "migrate-x", pod =>
        {
            pod["spec"]!["containers"]![0]!["ports"] = JsonNode.Parse("""[{"containerPort":8080},{"containerPort":9090,"protocol":"TCP","name":"metrics"},{"containerPort":53,"protocol":"UDP"}]""");
            pod["spec"]!["containers"]![1]!["ports"] = JsonNode.Parse("""[{"containerPort":15001}]""");
        });

        var main = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse("pod/migrate-x/container/main"), "shop", CancellationToken.None);
        var proxy = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse("pod/migrate-x/container/proxy"), "shop", CancellationToken.None);
        var plain = await TargetResolver.ResolveAsync(_client, KubeTarget.Parse("pod/orders-best"), "shop", CancellationToken.None);

        Assert.Equal([8080, 9090], main.ContainerPorts);
        Assert.Equal([15001], proxy.ContainerPorts);
        Assert.Equal([], plain.ContainerPorts);
    }

    [Theory]
    [InlineData("deployment/missing", "was not found in namespace 'shop'")]
    [InlineData("statefulset/db", "db-0: not ready, CrashLoopBackOff")]
    [InlineData("replicaset/empty", "no pods match its selector app=nothing")]
    [InlineData("pod/orders-pending", "Pending, ImagePullBackOff")]
    [InlineData("pod/orders-best/container/sidecar", "its containers are: app")]
    public async Task Unusable_targets_say_what_was_found(string target, string expected)
    {
        var ex = await Assert.ThrowsAsync<TargetResolutionException>(() => TargetResolver.ResolveAsync(_client, KubeTarget.Parse(target), "shop", CancellationToken.None));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    private void Workload(string resource, string name, string key, string value) => _server.Put(resource, new JsonObject
    {
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "shop" },
        ["spec"] = new JsonObject { ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { [key] = value } } },
    });

    private void Pod(string name, string app, string phase = "Running", string? readySince = "2026-01-01T00:00:00Z", int restarts = 0, string? waiting = null, string[]? containers = null, string? defaultContainer = null)
    {
        containers ??= ["app"];
        var label = app is "migrate" ? "job-name" : "app";
        var pod = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = "shop",
                ["labels"] = new JsonObject { [label] = app },
                ["annotations"] = defaultContainer is null ? new JsonObject() : new JsonObject { ["kubectl.kubernetes.io/default-container"] = defaultContainer },
            },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray([.. containers.Select(c => (JsonNode)new JsonObject { ["name"] = c, ["image"] = c })]) },
            ["status"] = new JsonObject
            {
                ["phase"] = phase,
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = readySince is null || phase != "Running" ? "False" : "True", ["lastTransitionTime"] = readySince }),
                ["containerStatuses"] = new JsonArray([.. containers.Select(c => (JsonNode)new JsonObject
                {
                    ["name"] = c,
                    ["ready"] = readySince is not null,
                    ["restartCount"] = restarts,
                    ["state"] = waiting is null ? new JsonObject { ["running"] = new JsonObject() } : new JsonObject { ["waiting"] = new JsonObject { ["reason"] = waiting } },
                })]),
            },
        };
        _server.Put("pods", pod);
    }
}
