using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Kube;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace ClusterContext.Tests.Kube;

/// <summary>
/// Writes to the API double by clients this project did not write (kubectl, the Python client, the official C#
/// client): each patch type, updates with and without a current resourceVersion, server-side apply, watches seeing
/// the change, and the refusals the API server answers with its own words.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KubeApiWritesTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("kubeapi-writes-").FullName;
    private KubeApiServer _server = null!;
    private string _kubeconfig = null!;

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync();
        _kubeconfig = _server.WriteClientCertificateKubeconfig(Path.Combine(_root, "kubeconfig"), "shop", "admin");
        _server.Put("configmaps", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"settings","namespace":"shop"},"data":{"mode":"sandbox"}}""")!);
        _server.Put("pods", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders-1","namespace":"shop"},"spec":{"containers":[{"name":"app","image":"orders:1","ports":[{"containerPort":8080}]}]}}""")!);
        _server.Put("deployments", (JsonObject)JsonNode.Parse("""{"metadata":{"name":"orders","namespace":"shop"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"orders"}},"template":{"metadata":{"labels":{"app":"orders"}},"spec":{"containers":[{"name":"app","image":"orders:1","env":[{"name":"A","value":"1"}]}]}}}}""")!);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Python_client_patches_replaces_watches_and_deletes_a_configmap()
    {
        var output = await RunAsync("/usr/bin/python3", WriteScript("""
            import sys
            from kubernetes import client, config, watch
            from kubernetes.client.rest import ApiException
            config.load_kube_config(config_file=sys.argv[1])
            api = client.CoreV1Api()
            start = api.read_namespaced_config_map("settings", "shop")
            patched = api.patch_namespaced_config_map("settings", "shop", {"data": {"mode": "patched"}})
            print("patched", patched.data["mode"], int(patched.metadata.resource_version) > int(start.metadata.resource_version))
            start.data["mode"] = "stale"
            try:
                api.replace_namespaced_config_map("settings", "shop", start)
            except ApiException as e:
                print("stale", e.status, e.reason)
            patched.data["mode"] = "replaced"
            replaced = api.replace_namespaced_config_map("settings", "shop", patched)
            print("replaced", replaced.data["mode"])
            for event in watch.Watch().stream(api.list_namespaced_config_map, "shop", resource_version=patched.metadata.resource_version, timeout_seconds=5):
                print("watch", event["type"], event["object"].data["mode"])
                break
            print("deleted", api.delete_namespaced_config_map("settings", "shop").status)
            """), _kubeconfig);

        Assert.Equal(["patched patched True", "stale 409 Conflict", "replaced replaced", "watch MODIFIED replaced", "deleted Success"],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Null(_server.Get("configmaps", "shop", "settings"));
    }

    [Fact]
    public async Task CSharp_client_patches_with_each_patch_type_and_applies_server_side()
    {
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(_kubeconfig));
        async Task<string> PatchAsync(string body, string type, string? manager = null, bool? force = null) =>
            (await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(body, type switch
            {
                "json" => V1Patch.PatchType.JsonPatch,
                "merge" => V1Patch.PatchType.MergePatch,
                "strategic" => V1Patch.PatchType.StrategicMergePatch,
                _ => V1Patch.PatchType.ApplyPatch,
            }), "settings", "shop", fieldManager: manager, force: force)).Data["mode"];

        Assert.Equal("json", await PatchAsync("""[{"op":"replace","path":"/data/mode","value":"json"}]""", "json"));
        Assert.Equal("merge", await PatchAsync("""{"data":{"mode":"merge"}}""", "merge"));
        Assert.Equal("strategic", await PatchAsync("""{"data":{"mode":"strategic"}}""", "strategic"));
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() =>
            PatchAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"applied"}}""", "apply", "csharp"));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Contains(".data.mode", conflict.Response.Content, StringComparison.Ordinal);
        Assert.Equal("applied", await PatchAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"applied"}}""", "apply", "csharp", force: true));

        // Re-applied without the key: the field the manager alone owned goes.
        await PatchAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"applied","extra":"x"}}""", "apply", "csharp");
        var reapplied = await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"applied"}}""", V1Patch.PatchType.ApplyPatch), "settings", "shop", fieldManager: "csharp");
        Assert.False(reapplied.Data.ContainsKey("extra"));

        // A server-side apply creates what is not there (201).
        var created = await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fresh"},"data":{"k":"v"}}""", V1Patch.PatchType.ApplyPatch), "fresh", "shop", fieldManager: "csharp");
        Assert.Equal("v", created.Data["k"]);
        Assert.Equal("csharp", Assert.Single(created.Metadata.ManagedFields).Manager);

        var stale = await client.CoreV1.ReadNamespacedConfigMapAsync("settings", "shop");
        await PatchAsync("""{"data":{"mode":"newer"}}""", "merge");
        stale.Data["mode"] = "stale";
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReplaceNamespacedConfigMapAsync(stale, "settings", "shop"));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, refused.Response.StatusCode);
    }

    [Fact]
    public async Task Strategic_merge_patches_merge_lists_by_their_keys_and_bump_a_deployments_generation()
    {
        await KubectlAsync("patch", "deployment", "orders", "-p",
            """{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"2"}]},{"name":"sidecar","image":"proxy:1"}]}}}}""");

        var deployment = _server.Get("deployments", "shop", "orders")!;
        var containers = deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["app", "sidecar"], containers.Select(c => (string?)c!["name"]));
        Assert.Equal("orders:1", (string?)containers[0]!["image"]);
        Assert.Equal(["A", "B"], containers[0]!["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal(2, (long)deployment["metadata"]!["generation"]!);

        // $patch: delete removes one keyed item; a patch that changes nothing stores nothing.
        await KubectlAsync("patch", "deployment", "orders", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}""");
        var version = (string?)_server.Get("deployments", "shop", "orders")!["metadata"]!["resourceVersion"];
        Assert.Equal(["app"], _server.Get("deployments", "shop", "orders")!["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.Contains("(no change)", await KubectlAsync("patch", "deployment", "orders", "-p", """{"spec":{"replicas":1}}"""), StringComparison.Ordinal);
        Assert.Equal(version, (string?)_server.Get("deployments", "shop", "orders")!["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public async Task Kubectl_apply_of_a_deployment_merges_its_three_way_patch_item_by_item()
    {
        var manifest = Path.Combine(_root, "shipping.yaml");
        string Manifest(string env, string containers) => $"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: shipping
            spec:
              replicas: 1
              selector:
                matchLabels: {"{"}app: shipping{"}"}
              template:
                metadata:
                  labels: {"{"}app: shipping{"}"}
                spec:
                  containers:
                  - name: app
                    image: shipping:1
                    env:
            {env}
            {containers}
            """;
        await File.WriteAllTextAsync(manifest, Manifest("        - {name: A, value: '1'}\n        - {name: B, value: '2'}", ""));
        Assert.Contains("deployment.apps/shipping created", await KubectlAsync("apply", "-f", manifest), StringComparison.Ordinal);

        // Someone else adds an env var; the next apply changes A, drops B, adds a container, and keeps what it never listed.
        await KubectlAsync("set", "env", "deployment/shipping", "C=3");
        await File.WriteAllTextAsync(manifest, Manifest("        - {name: A, value: '10'}", "      - name: sidecar\n        image: proxy:1"));
        Assert.Contains("deployment.apps/shipping configured", await KubectlAsync("apply", "-f", manifest), StringComparison.Ordinal);

        var deployment = _server.Get("deployments", "shop", "shipping")!;
        var containers = deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(["app", "sidecar"], containers.Select(c => (string?)c!["name"]));
        Assert.Equal(["A=10", "C=3"], containers[0]!["env"]!.AsArray().Select(e => $"{(string?)e!["name"]}={(string?)e["value"]}"));
        Assert.Equal(3, (long)deployment["metadata"]!["generation"]!);

        // Applied again, kubectl still sends the list order (C is in the live list, not in the manifest); the patch changes
        // nothing, so nothing is stored.
        var version = (string?)deployment["metadata"]!["resourceVersion"];
        await KubectlAsync("apply", "-f", manifest);
        Assert.Equal(version, (string?)_server.Get("deployments", "shop", "shipping")!["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public async Task Writes_the_server_refuses_are_refused_with_its_code_and_words()
    {
        var pod = await KubectlFailsAsync("patch", "pod", "orders-1", "-p", """{"spec":{"containers":[{"name":"app","ports":[{"containerPort":9090}]}]}}""");
        Assert.Contains("The Pod \"orders-1\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`", pod, StringComparison.Ordinal);
        Assert.Contains("pod/orders-1 image updated", await KubectlAsync("set", "image", "pod/orders-1", "app=orders:2"), StringComparison.Ordinal);
        Assert.Equal("orders:2", (string?)_server.Get("pods", "shop", "orders-1")!["spec"]!["containers"]![0]!["image"]);

        var test = await KubectlFailsAsync("patch", "configmap", "settings", "--type=json", "-p", """[{"op":"test","path":"/data/mode","value":"other"}]""");
        Assert.Contains("testing value /data/mode failed", test, StringComparison.Ordinal);

        var unknown = Path.Combine(_root, "unknown.yaml");
        await File.WriteAllTextAsync(unknown, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\nspec:\n  mode: x\n");
        Assert.Contains("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"spec\"", await KubectlFailsAsync("apply", "-f", unknown), StringComparison.Ordinal);

        var secret = Path.Combine(_root, "secret.yaml");
        await File.WriteAllTextAsync(secret, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ndata:\n  password: not*base64\n");
        Assert.Contains("illegal base64 data", await KubectlFailsAsync("apply", "-f", secret), StringComparison.Ordinal);

        var immutable = Path.Combine(_root, "immutable.yaml");
        await File.WriteAllTextAsync(immutable, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\nimmutable: true\ndata:\n  mode: x\n");
        await KubectlAsync("apply", "-f", immutable);
        Assert.Contains("data: Forbidden: field is immutable when `immutable` is set",
            await KubectlFailsAsync("patch", "configmap", "frozen", "-p", """{"data":{"mode":"y"}}"""), StringComparison.Ordinal);

        Assert.Contains("configmaps \"missing\" not found", await KubectlFailsAsync("patch", "configmap", "missing", "-p", """{"data":{"a":"b"}}"""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubectl_creates_configmaps_and_secrets_from_literals_in_protobuf_and_hears_415_for_other_kinds()
    {
        Assert.Contains("configmap/made created", await KubectlAsync("create", "configmap", "made", "--from-literal=a=b", "--from-literal=c=d"), StringComparison.Ordinal);
        Assert.Contains("secret/pass created", await KubectlAsync("create", "secret", "generic", "pass", "--from-literal=password=hunter2"), StringComparison.Ordinal);

        var configMap = _server.Get("configmaps", "shop", "made")!;
        Assert.Equal("""{"a":"b","c":"d"}""", configMap["data"]!.ToJsonString());
        Assert.Equal("kubectl-create", (string?)configMap["metadata"]!["managedFields"]![0]!["manager"]);
        var secret = _server.Get("secrets", "shop", "pass")!;
        Assert.Equal(("Opaque", Convert.ToBase64String("hunter2"u8)), ((string?)secret["type"], (string?)secret["data"]!["password"]));
        Assert.Contains("configmaps \"made\" already exists", await KubectlFailsAsync("create", "configmap", "made", "--from-literal=a=b"), StringComparison.Ordinal);
        Assert.Contains("the body of the request was in an unknown format", await KubectlFailsAsync("create", "deployment", "web", "--image=web:1"), StringComparison.Ordinal);
    }

    private string WriteScript(string text)
    {
        var path = Path.Combine(_root, $"script-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, text);
        return path;
    }

    private Task<string> KubectlAsync(params string[] arguments) => RunAsync("kubectl", [$"--kubeconfig={_kubeconfig}", .. arguments]);

    private async Task<string> KubectlFailsAsync(params string[] arguments)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => KubectlAsync(arguments));
        return failure.Message;
    }

    private async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["KUBECACHEDIR"] = Path.Combine(_root, "kubecache");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}{await output}");
    }
}
