using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ClusterContext.Kube;
using ClusterContext.Testing.Kube;

namespace ClusterContext.Tests.Kube;

/// <summary>The client against the API server double, configured only through kubeconfig files as a user writes them.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KubeApiClientTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("kubeapi-").FullName;
    private KubeApiServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync();
        _server.Put("pods", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders-1","namespace":"shop","labels":{"app":"orders"}},"spec":{"containers":[{"name":"app","image":"orders"}]}}""")!);
        _server.Put("pods", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"web-1","namespace":"shop","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"web"}]}}""")!);
        _server.Put("deployments", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders","namespace":"shop"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"orders"}}},"status":{"replicas":1,"readyReplicas":1,"availableReplicas":1,"updatedReplicas":1}}""")!);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Client_certificate_from_files_authenticates()
    {
        using var certificate = _server.Pki.IssueClient("alice", "system:masters");
        var (pem, key) = TestPki.ToPem(certificate);
        File.WriteAllText(Path.Combine(_root, "alice.crt"), pem);
        File.WriteAllText(Path.Combine(_root, "alice.key"), key);
        using var client = Client("client-certificate: alice.crt\n    client-key: alice.key");

        using var pod = await client.SendAsync(HttpMethod.Get, "/api/v1/namespaces/shop/pods/orders-1", null, null, CancellationToken.None);

        Assert.Equal("orders-1", pod.RootElement.GetProperty("metadata").GetProperty("name").GetString());
        Assert.Contains("GET /api/v1/namespaces/shop/pods/orders-1 alice", _server.Requests);
    }

    [Fact]
    public async Task Client_certificate_data_token_token_file_and_basic_auth_each_authenticate()
    {
        using var certificate = _server.Pki.IssueClient("bob");
        var (pem, key) = TestPki.ToPem(certificate);
        _server.AddToken("static-token", "carol");
        _server.AddToken("file-token-1", "dave");
        _server.AddToken("file-token-2", "dave2");
        _server.AddBasicUser("erin", "s3cret");
        File.WriteAllText(Path.Combine(_root, "token"), "file-token-1\n");

        await Expect("bob", $"client-certificate-data: {B64(pem)}\n    client-key-data: {B64(key)}");
        await Expect("carol", "token: static-token");
        using (var fileClient = Client("tokenFile: token"))
        {
            await Get(fileClient, "/api/v1/namespaces/shop/pods?labelSelector=app%3Dorders");
            File.WriteAllText(Path.Combine(_root, "token"), "file-token-2\n");
            File.SetLastWriteTimeUtc(Path.Combine(_root, "token"), DateTime.UtcNow.AddSeconds(5));
            await Get(fileClient, "/api/v1/namespaces/shop/pods?labelSelector=app%3Dorders");
        }

        await Expect("erin", "username: erin\n    password: s3cret");
        Assert.Contains("GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dorders dave", _server.Requests);
        Assert.Contains("GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dorders dave2", _server.Requests);

        async Task Expect(string user, string credentials)
        {
            using var client = Client(credentials);
            await Get(client, "/api/v1/namespaces/shop/pods/web-1");
            Assert.Contains($"GET /api/v1/namespaces/shop/pods/web-1 {user}", _server.Requests);
        }
    }

    [Fact]
    public async Task Exec_plugin_token_is_cached_and_the_plugin_rerun_after_a_401()
    {
        var count = Path.Combine(_root, "runs");
        var plugin = Path.Combine(_root, "cred.sh");
        File.WriteAllText(plugin, """
            #!/bin/sh
            echo run >> "$COUNT"
            n=$(wc -l < "$COUNT")
            echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-'$n'"}}'
            """);
        File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _server.AddToken("exec-1", "frank");
        _server.AddToken("exec-2", "frank");
        using var client = Client($"exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ./cred.sh\n      env: [ {{ name: COUNT, value: {count} }} ]");

        for (var i = 0; i < 3; i++)
        {
            await Get(client, "/api/v1/namespaces/shop/pods/orders-1");
        }

        Assert.Single(File.ReadAllLines(count));
        _server.RevokeToken("exec-1");
        await Get(client, "/api/v1/namespaces/shop/pods/orders-1");
        await Get(client, "/api/v1/namespaces/shop/pods/orders-1");
        Assert.Equal(2, File.ReadAllLines(count).Length);
    }

    [Fact]
    public async Task Exec_plugin_with_provide_cluster_info_receives_the_cluster_in_its_exec_info()
    {
        var info = Path.Combine(_root, "exec-info.json");
        var plugin = Path.Combine(_root, "info.sh");
        File.WriteAllText(plugin, $$$"""
            #!/bin/sh
            printf '%s' "$KUBERNETES_EXEC_INFO" > '{{{info}}}'
            echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-info"}}'
            """);
        File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _server.AddToken("exec-info", "mia");
        using var client = Client("exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./info.sh\n      interactiveMode: Never\n      provideClusterInfo: true");

        await Get(client, "/api/v1/namespaces/shop/pods/orders-1");

        var spec = JsonNode.Parse(File.ReadAllText(info))!["spec"]!;
        Assert.Equal(_server.Address.ToString().TrimEnd('/'), (string?)spec["cluster"]!["server"]);
        Assert.Equal(_server.Pki.AuthorityPem, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)spec["cluster"]!["certificate-authority-data"]!)));
        Assert.False((bool)spec["interactive"]!);
    }

    [Fact]
    public async Task Exec_plugin_client_certificate_authenticates_the_connection()
    {
        using var certificate = _server.Pki.IssueClient("ivan");
        var (pem, key) = TestPki.ToPem(certificate);
        var credential = Path.Combine(_root, "credential.json");
        File.WriteAllText(credential, new JsonObject
        {
            ["apiVersion"] = "client.authentication.k8s.io/v1",
            ["kind"] = "ExecCredential",
            ["status"] = new JsonObject { ["clientCertificateData"] = pem, ["clientKeyData"] = key },
        }.ToJsonString());
        var plugin = Path.Combine(_root, "cert.sh");
        File.WriteAllText(plugin, $"#!/bin/sh\ncat '{credential}'\n");
        File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var client = Client("exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./cert.sh\n      interactiveMode: Never");

        await Get(client, "/api/v1/namespaces/shop/pods/orders-1");

        Assert.Contains("GET /api/v1/namespaces/shop/pods/orders-1 ivan", _server.Requests);
    }

    [Fact]
    public async Task Proxy_url_carries_api_calls_and_port_forward_websockets_through_an_http_connect_proxy()
    {
        // The cluster's name only means something to the proxy, as behind a corporate proxy or a bastion.
        await using var proxy = new ConnectProxy(name => name == "kubernetes" ? IPAddress.Loopback : null);
        _server.AddToken("t", "judy");
        var config = WriteKubeconfig("token: t", $"https://kubernetes:{_server.Address.Port}", _server.Pki.AuthorityPem, null, proxyUrl: $"http://127.0.0.1:{proxy.Port}");
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig: config));
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        _server.PortForwardTarget = (_, _, _) => echo.LocalEndpoint;
        var served = Task.Run(async () =>
        {
            using var connection = await echo.AcceptTcpClientAsync();
            var buffer = new byte[5];
            await connection.GetStream().ReadExactlyAsync(buffer);
            await connection.GetStream().WriteAsync(buffer);
        });

        await Get(client, "/api/v1/namespaces/shop/pods/orders-1");
        await using (var stream = await PortForwardStream.OpenAsync(client, "shop", "orders-1", 8080, CancellationToken.None))
        {
            await stream.WriteAsync("hello"u8.ToArray());
            var back = new byte[5];
            await stream.ReadExactlyAsync(back);
            Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(back));
        }

        await served;
        Assert.All(proxy.Tunnels, t => Assert.Equal($"kubernetes:{_server.Address.Port}", t));
        Assert.False(proxy.Tunnels.IsEmpty);
        Assert.Contains(_server.Requests, r => r.StartsWith("GET /api/v1/namespaces/shop/pods/orders-1/portforward?ports=8080 judy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Insecure_skip_tls_verify_talks_to_a_server_no_ca_vouches_for()
    {
        _server.AddToken("t", "kim");
        var path = WriteKubeconfig("token: t", _server.Address.ToString(), ca: null, serverName: null);
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig: path));

        await Get(client, "/api/v1/namespaces/shop/pods/orders-1");

        Assert.Contains("GET /api/v1/namespaces/shop/pods/orders-1 kim", _server.Requests);
    }

    [Fact]
    public async Task A_server_url_with_a_path_keeps_it_for_api_calls_watches_and_port_forward_as_kubectl_does()
    {
        await using var proxied = await KubeApiServer.StartAsync(pathBase: "/k8s/clusters/c-1");
        proxied.Put("pods", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders-1","namespace":"shop"},"spec":{"containers":[{"name":"app","image":"orders"}]}}""")!);
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        proxied.PortForwardTarget = (_, _, _) => echo.LocalEndpoint;
        var config = proxied.WriteKubeconfig(Path.Combine(_root, "proxied"), "t");
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig: config));

        await Get(client, "/api/v1/namespaces/shop/pods/orders-1");
        await foreach (var (type, _) in client.WatchAsync("/api/v1/namespaces/shop/pods?watch=true&timeoutSeconds=1", CancellationToken.None))
        {
            Assert.Equal("ADDED", type);
        }

        var accepted = echo.AcceptTcpClientAsync();
        await using (await PortForwardStream.OpenAsync(client, "shop", "orders-1", 8080, CancellationToken.None))
        {
            (await accepted).Dispose();
        }

        Assert.Contains("pod/orders-1", await Kubectl(config, "get", "pods", "-o", "name"), StringComparison.Ordinal);
        Assert.All(proxied.Requests, r => Assert.StartsWith("/k8s/clusters/c-1/", r.Split(' ')[1], StringComparison.Ordinal));
        Assert.Contains(proxied.Requests, r => r.StartsWith("GET /k8s/clusters/c-1/api/v1/namespaces/shop/pods/orders-1/portforward?ports=8080", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Status_errors_come_back_with_code_reason_and_advice()
    {
        _server.AddToken("t", "grace");
        _server.Deny("grace", "patch", "pods/ephemeralcontainers");
        using var client = Client("token: t");

        var missing = await Assert.ThrowsAsync<KubeApiException>(() => Get(client, "/api/v1/namespaces/shop/pods/nope"));
        Assert.Equal((404, "NotFound"), (missing.StatusCode, missing.Reason));
        Assert.Contains("pods \"nope\" not found", missing.Message, StringComparison.Ordinal);

        var forbidden = await Assert.ThrowsAsync<KubeApiException>(() => client.SendAsync(HttpMethod.Patch,
            "/api/v1/namespaces/shop/pods/orders-1/ephemeralcontainers", "{}", "application/strategic-merge-patch+json", CancellationToken.None));
        Assert.Equal((403, "Forbidden"), (forbidden.StatusCode, forbidden.Reason));
        Assert.Contains("cannot patch resource \"pods/ephemeralcontainers\"", forbidden.Message, StringComparison.Ordinal);
        Assert.Contains("RBAC", forbidden.Message, StringComparison.Ordinal);

        using var stranger = Client("token: unknown");
        var unauthorized = await Assert.ThrowsAsync<KubeApiException>(() => Get(stranger, "/api/v1/namespaces/shop/pods/orders-1"));
        Assert.Equal(401, unauthorized.StatusCode);
        Assert.Contains("log in again", unauthorized.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_server_and_untrusted_certificate_are_told_apart()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var down = Client("token: t", server: $"https://127.0.0.1:{closedPort}");
        var unreachable = await Assert.ThrowsAsync<KubeApiException>(() => Get(down, "/version"));
        Assert.Contains("Cannot reach", unreachable.Message, StringComparison.Ordinal);

        using var otherPki = new TestPki("some-other-ca");
        using var untrusted = Client("token: t", ca: otherPki.AuthorityPem);
        var tls = await Assert.ThrowsAsync<KubeApiException>(() => Get(untrusted, "/version"));
        Assert.Contains("certificate-authority", tls.Message, StringComparison.Ordinal);

        _server.AddToken("t", "heidi");
        using var renamed = Client("token: t", server: _server.Address.ToString().Replace("127.0.0.1", "localhost", StringComparison.Ordinal), serverName: "kubernetes");
        await Get(renamed, "/version");
    }

    [Fact]
    public async Task Kubectl_reads_pods_and_deployments_from_the_double()
    {
        var config = AdminKubeconfig();

        var pods = JsonNode.Parse(await Kubectl(config, "get", "pods", "-n", "shop", "-l", "app=orders", "-o", "json"))!;
        Assert.Equal("orders-1", (string?)pods["items"]![0]!["metadata"]!["name"]);
        Assert.Single(pods["items"]!.AsArray());

        var deployment = await Kubectl(config, "get", "deploy", "orders", "-n", "shop");
        Assert.Matches(@"orders\s+1/1\s+1\s+1", deployment);

        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => Kubectl(config, "get", "pod", "nope", "-n", "shop"));
        Assert.Contains("pods \"nope\" not found", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Python_client_reads_a_pod_and_lists_by_label_selector()
    {
        var output = await PythonAsync("""
            pod = api.read_namespaced_pod("orders-1", "shop")
            print(pod.metadata.name, pod.spec.containers[0].name, pod.metadata.labels["app"])
            listed = api.list_namespaced_pod("shop", label_selector="app=web")
            print(",".join(p.metadata.name for p in listed.items))
            try:
                api.read_namespaced_pod("nope", "shop")
            except client.exceptions.ApiException as e:
                print(e.status, e.reason)
            """);

        Assert.Equal(["orders-1 app orders", "web-1", "404 Not Found"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("GET /api/v1/namespaces/shop/pods?labelSelector=app%3Dweb admin", _server.Requests);
    }

    [Fact]
    public async Task A_watch_sees_the_current_pods_then_each_change_filtered_by_field_selector()
    {
        using var client = Client("token: watcher");
        _server.AddToken("watcher", "watcher");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<string>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, value) in client.WatchAsync("/api/v1/namespaces/shop/pods?fieldSelector=metadata.name%3Dorders-1&watch=true", stop.Token))
            {
                lock (events)
                {
                    events.Add($"{type} {value.GetProperty("metadata").GetProperty("name").GetString()} {value.GetProperty("metadata").GetProperty("labels").GetProperty("app").GetString()}");
                }

                if (type == "DELETED")
                {
                    return;
                }
            }
        });
        await WaitUntil(() => events.Count == 1);

        _server.Update("pods", "shop", "web-1", pod => pod["metadata"]!["labels"]!["app"] = "web2"); // another pod: not seen
        _server.Update("pods", "shop", "orders-1", pod => pod["metadata"]!["labels"]!["app"] = "orders2");
        _server.Delete("pods", "shop", "orders-1");
        await watching.WaitAsync(stop.Token);

        Assert.Equal(["ADDED orders-1 orders", "MODIFIED orders-1 orders2", "DELETED orders-1 orders2"], events);
    }

    [Fact]
    public async Task Selectors_the_server_refuses_and_set_based_label_selectors_answer_as_the_api_does()
    {
        var config = AdminKubeconfig();

        Assert.Equal("pod/orders-1\npod/web-1\n", await Kubectl(config, "get", "pods", "-l", "app in (orders,web)", "-o", "name"));
        Assert.Equal("pod/web-1\n", await Kubectl(config, "get", "pods", "-l", "app notin (orders),app", "-o", "name"));
        Assert.Equal("pod/web-1\n", await Kubectl(config, "get", "pods", "--field-selector", "metadata.name!=orders-1", "-o", "name"));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Kubectl(config, "get", "pods", "--field-selector", "spec.color=blue"));
        Assert.Contains("field label not supported: spec.color", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubectl_creates_and_deletes_and_hears_already_exists_and_conflict_as_the_server_says_them()
    {
        var config = AdminKubeconfig();

        // From a manifest, as kubectl sends it (JSON).
        var manifest = Path.Combine(_root, "settings.yaml");
        File.WriteAllText(manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: sandbox\n");
        Assert.Contains("configmap/settings created", await Kubectl(config, "create", "-f", manifest), StringComparison.Ordinal);
        Assert.Equal("sandbox", (string?)_server.Get("configmaps", "shop", "settings")!["data"]!["mode"]);
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => Kubectl(config, "create", "-f", manifest));
        Assert.Contains("configmaps \"settings\" already exists", again.Message, StringComparison.Ordinal);
        Assert.Contains("configmap \"settings\" deleted", await Kubectl(config, "delete", "configmap", "settings", "--wait=false"), StringComparison.Ordinal);
        Assert.Null(_server.Get("configmaps", "shop", "settings"));

        // An update based on an old version of the pod is refused with 409 Conflict.
        _server.AddToken("t", "lee");
        using var client = Client("token: t");
        var stale = _server.Get("pods", "shop", "orders-1")!.DeepClone().AsObject();
        _server.Update("pods", "shop", "orders-1", pod => pod["metadata"]!["labels"]!["touched"] = "yes");
        stale["spec"]!["ephemeralContainers"] = new JsonArray(new JsonObject { ["name"] = "debug", ["image"] = "busybox" });
        var conflict = await Assert.ThrowsAsync<KubeApiException>(() => client.SendAsync(HttpMethod.Put, "/api/v1/namespaces/shop/pods/orders-1/ephemeralcontainers", stale.ToJsonString(), null, CancellationToken.None));
        Assert.Equal((409, "Conflict"), (conflict.StatusCode, conflict.Reason));
        Assert.Contains("the object has been modified", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Python_client_watches_pods_by_label_until_its_timeout()
    {
        var run = PythonAsync("""
            for event in watch.Watch().stream(api.list_namespaced_pod, "shop", label_selector="app=orders", timeout_seconds=3):
                status = event["object"].status
                print(event["type"], event["object"].metadata.name, status.phase if status else None, flush=True)
            print("end")
            """);
        await WaitUntil(() => _server.ActiveWatches == 1);
        _server.Update("pods", "shop", "orders-1", pod => pod["status"] = new JsonObject { ["phase"] = "Running" });

        var output = await run;

        Assert.Equal(["ADDED orders-1 None", "MODIFIED orders-1 Running", "end"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 20)
        {
            Assert.True(waited < 10_000, "The condition did not hold within 10 s.");
            await Task.Delay(20);
        }
    }

    /// <summary>The double's own kubeconfig for user "admin" with a client certificate its CA issued, as kubectl and the Python client use it.</summary>
    private string AdminKubeconfig() => _server.WriteClientCertificateKubeconfig(Path.Combine(_root, $"admin-{Guid.NewGuid():N}"), "shop", "admin");

    /// <summary>Runs a script with the Python <c>kubernetes</c> client, its <c>api</c> (CoreV1Api) configured from <see cref="AdminKubeconfig"/>.</summary>
    private Task<string> PythonAsync(string body)
    {
        var script = Path.Combine(_root, $"client-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, "import sys\nfrom kubernetes import client, config, watch\nconfig.load_kube_config(config_file=sys.argv[1])\napi = client.CoreV1Api()\n" + body);
        return Run("/usr/bin/python3", script, AdminKubeconfig());
    }

    private static async Task Get(KubeApiClient client, string path) =>
        (await client.SendAsync(HttpMethod.Get, path, null, null, CancellationToken.None)).Dispose();

    private static string B64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    private KubeApiClient Client(string credentials, string? server = null, string? ca = null, string? serverName = null) =>
        new(KubeConfigLoader.Load(kubeconfig: WriteKubeconfig(credentials, server ?? _server.Address.ToString(), ca ?? _server.Pki.AuthorityPem, serverName)));

    /// <summary>A kubeconfig for <paramref name="server"/> trusting <paramref name="ca"/>, or with no CA and insecure-skip-tls-verify.</summary>
    private string WriteKubeconfig(string credentials, string server, string? ca, string? serverName, string? proxyUrl = null)
    {
        var path = Path.Combine(_root, $"config-{Guid.NewGuid():N}");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            current-context: test
            clusters:
            - name: double
              cluster:
                server: {server}
            {(ca is null ? "    insecure-skip-tls-verify: true" : $"    certificate-authority-data: {B64(ca)}")}
            {(serverName is null ? "" : $"    tls-server-name: {serverName}")}
            {(proxyUrl is null ? "" : $"    proxy-url: {proxyUrl}")}
            users:
            - name: me
              user:
                {credentials}
            contexts:
            - name: test
              context:
                cluster: double
                user: me
                namespace: shop
            """);
        return path;
    }

    [Fact]
    public async Task A_server_that_takes_the_connection_and_says_nothing_fails_the_call_with_the_fix_not_a_hang()
    {
        // A plain-HTTP listener that reads the request and never answers (a hung API server, a proxy that swallows it).
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new System.Collections.Concurrent.ConcurrentBag<Socket>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                held.Add(await silent.AcceptSocketAsync());
            }
        });
        var server = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}");
        using var client = new KubeApiClient(new KubeEndpoint("silent", server, "shop", null, false, null, null, new KubeCredentials(Token: "t")))
        {
            RequestTimeout = TimeSpan.FromSeconds(1),
        };

        var call = Assert.ThrowsAsync<KubeApiException>(() => client.SendAsync(HttpMethod.Get, "/api/v1/namespaces/shop/pods", null, null, CancellationToken.None));
        var failure = await call.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains("did not answer GET /api/v1/namespaces/shop/pods within 1 s", failure.Message, StringComparison.Ordinal);
        Assert.Contains("kubectl --context silent get --raw /version", failure.Message, StringComparison.Ordinal);

        var stream = Assert.ThrowsAsync<KubeApiException>(() => client.ConnectWebSocketAsync("/api/v1/namespaces/shop/pods/p/portforward?ports=1", "v4.channel.k8s.io", CancellationToken.None));
        Assert.Contains("did not open", (await stream.WaitAsync(TimeSpan.FromSeconds(20))).Message, StringComparison.Ordinal);
        silent.Stop();
        foreach (var socket in held)
        {
            socket.Dispose();
        }

        await Assert.ThrowsAnyAsync<Exception>(() => accepting);
    }

    private Task<string> Kubectl(string kubeconfig, params string[] arguments) => Run("kubectl", [$"--kubeconfig={kubeconfig}", .. arguments]);

    private async Task<string> Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["KUBECACHEDIR"] = Path.Combine(_root, "kubecache");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}");
    }
}
