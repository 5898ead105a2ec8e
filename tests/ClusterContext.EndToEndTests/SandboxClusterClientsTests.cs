using System.Diagnostics;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Cluster;
using k8s;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The sandbox cluster as clients this project did not write see it: the Python client (whose models refuse an
/// object without a field the API server always sets) and the official C# client read and list every kind served,
/// before, during and after a session's agent container; kubectl changes the ConfigMap and Secret every way it can,
/// and each change reaches the pod's mounted file the kubelet's way within 2 s.
/// </summary>
public sealed class SandboxClusterClientsTests(SandboxClusterFixture fixture) : IClassFixture<SandboxClusterFixture>
{
    [Fact]
    public async Task Python_and_CSharp_clients_read_and_list_every_kind_before_during_and_after_an_agent_session()
    {
        // Other tests of the class may have run sessions already: their agents' containers are there, terminated.
        var before = fixture.Cluster.Api.Get("pods", SandboxCluster.Namespace, SandboxCluster.Pod)!["status"]!["ephemeralContainerStatuses"]?.AsArray().Count ?? 0;
        async Task CheckAsync(string? ephemeralState)
        {
            var python = JsonNode.Parse(await RunAsync("/usr/bin/python3", [WritePythonScript(), fixture.Kubeconfig]))!;
            var csharp = await ReadWithCSharpClientAsync();
            foreach (var view in new[] { python, csharp })
            {
                Assert.Equal([SandboxCluster.ClientPod, SandboxCluster.Pod], Names(view, "pods"));
                Assert.Equal(["orders", "redis", "web"], Names(view, "services"));
                Assert.Contains("orders-config", Names(view, "configmaps"));
                Assert.Contains("orders-secret", Names(view, "secrets"));
                Assert.Equal([SandboxCluster.Deployment], Names(view, "deployments"));
                Assert.Equal([SandboxCluster.ReplicaSet], Names(view, "replicasets"));
                Assert.Empty(Names(view, "statefulsets"));
                Assert.Empty(Names(view, "jobs"));
                Assert.Contains(SandboxCluster.Namespace, Names(view, "namespaces"));
                Assert.StartsWith("registry.local/shop/orders@sha256:", (string?)view["imageID"], StringComparison.Ordinal);
                Assert.Equal("BestEffort", (string?)view["qosClass"]);
                Assert.Equal(SandboxCluster.SecretText, (string?)view["secret"]);
                var ephemeral = view["ephemeral"]!.AsArray();
                Assert.All(ephemeral.Take(before), e => Assert.Equal("terminated", (string?)e!["state"]));
                if (ephemeralState is null)
                {
                    Assert.Equal(before, ephemeral.Count);
                    continue;
                }

                Assert.Equal(before + 1, ephemeral.Count);
                var last = ephemeral[^1]!;
                Assert.Equal(ephemeralState, (string?)last["state"]);
                Assert.StartsWith("clustercontext/agent@sha256:", (string?)last["imageID"], StringComparison.Ordinal);
                Assert.StartsWith("containerd://", (string?)last["containerID"], StringComparison.Ordinal);
            }
        }

        await CheckAsync(null);

        // A session adds the agent container and keeps it running while paused; then it ends.
        var resume = Path.Combine(fixture.Directory, "resume-clients");
        var app = AppRun.StartAsync(new Dictionary<string, string?>
        {
            ["KUBECONFIG"] = fixture.Kubeconfig,
            ["CLUSTERCONTEXT_TARGET"] = $"deployment/{SandboxCluster.Deployment}",
            ["CLUSTERCONTEXT_REQUIRED"] = "true",
            ["ORDERS_MODE"] = null,
        }, null, "env:ORDERS_MODE", $"pause:{resume}");
        Assert.Equal("env:ORDERS_MODE\tsandbox", await app.NextLineAsync());
        await CheckAsync("running");
        await File.WriteAllTextAsync(resume, "");
        var run = await app.CompleteAsync();
        Assert.True(run.ExitCode == 0, run.Output);
        await WaitUntilAsync(TimeSpan.FromSeconds(30), () =>
            fixture.Cluster.Api.Get("pods", SandboxCluster.Namespace, SandboxCluster.Pod)!["status"]!["ephemeralContainerStatuses"]!.AsArray()
                .All(s => s!["state"]!["terminated"] is not null));
        await CheckAsync("terminated");
    }

    /// <summary>kubectl against the sandbox cluster, as the README's user has it, and the version it dispatches to.</summary>
    [Theory]
    [InlineData("kubectl")]
    [InlineData("kubectl.1.32")]
    [InlineData("kubectl.1.29")] // the oldest that reads /openapi/v3 (1.27 and 1.28 want v2, which is not served)
    [InlineData("kubectl.1.33")]
    public async Task Kubectl_patch_apply_replace_and_edit_of_the_configmap_reach_the_pods_file_within_2_s(string kubectl)
    {
        const string file = "/etc/orders/appsettings.json";
        async Task ExpectInPodAsync(string source)
        {
            var text = Config(source);
            await WaitUntilAsync(TimeSpan.FromSeconds(2), () => File.ReadAllText(fixture.PodRoot + file) == text,
                () => $"{file} in the pod is {File.ReadAllText(fixture.PodRoot + file)}, not {text}; updates: {string.Join("; ", fixture.Cluster.Volumes.Updates)}");
            Assert.Empty(fixture.Cluster.Volumes.Errors);
        }

        string Patch(string source) => new JsonObject { ["data"] = new JsonObject { ["appsettings.json"] = Config(source) } }.ToJsonString();

        await KubectlAsync(kubectl, "patch", "configmap", "orders-config", "--type=strategic", "-p", Patch($"{kubectl}-strategic"));
        await ExpectInPodAsync($"{kubectl}-strategic");
        await KubectlAsync(kubectl, "patch", "configmap", "orders-config", "--type=merge", "-p", Patch($"{kubectl}-merge"));
        await ExpectInPodAsync($"{kubectl}-merge");
        await KubectlAsync(kubectl, "patch", "configmap", "orders-config", "--type=json", "-p",
            new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = "/data/appsettings.json", ["value"] = Config($"{kubectl}-json") }).ToJsonString());
        await ExpectInPodAsync($"{kubectl}-json");

        // kubectl apply: the first time without its annotation (it patches it in), then a three-way patch.
        var manifest = Path.Combine(fixture.Directory, $"{kubectl}-configmap.yaml");
        await File.WriteAllTextAsync(manifest, Manifest($"{kubectl}-applied", "extra: one"));
        await KubectlAsync(kubectl, "apply", "-f", manifest);
        await ExpectInPodAsync($"{kubectl}-applied");
        Assert.Equal("one", File.ReadAllText(fixture.PodRoot + "/etc/orders/extra"));
        await File.WriteAllTextAsync(manifest, Manifest($"{kubectl}-reapplied"));
        Assert.Equal("configmap/orders-config configured", (await KubectlAsync(kubectl, "apply", "-f", manifest)).Trim());
        await ExpectInPodAsync($"{kubectl}-reapplied");
        Assert.False(File.Exists(fixture.PodRoot + "/etc/orders/extra")); // the key apply no longer lists is gone, its file too
        Assert.Equal("configmap/orders-config unchanged", (await KubectlAsync(kubectl, "apply", "-f", manifest)).Trim());

        // kubectl edit, with an editor that changes the file it is given.
        var editor = Path.Combine(fixture.Directory, "editor.sh");
        await File.WriteAllTextAsync(editor, $"#!/bin/sh\nsed -i 's/{kubectl}-reapplied/{kubectl}-edited/' \"$1\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Assert.Equal("configmap/orders-config edited", (await KubectlAsync(kubectl, ["edit", "configmap", "orders-config"], new() { ["KUBE_EDITOR"] = editor })).Trim());
        await ExpectInPodAsync($"{kubectl}-edited");

        // kubectl replace (PUT): with the current resourceVersion it is stored; with a stale one it is refused as the server refuses it.
        var current = JsonNode.Parse(await KubectlAsync(kubectl, "get", "configmap", "orders-config", "-o", "json"))!;
        current["data"]!["appsettings.json"] = Config($"{kubectl}-replaced");
        var replacement = Path.Combine(fixture.Directory, $"{kubectl}-replace.json");
        await File.WriteAllTextAsync(replacement, current.ToJsonString());
        await KubectlAsync(kubectl, "replace", "-f", replacement);
        await ExpectInPodAsync($"{kubectl}-replaced");
        var stale = await RunAsync(Kubectl(kubectl), [$"--kubeconfig={fixture.Kubeconfig}", "replace", "-f", replacement], expectSuccess: false);
        Assert.Contains("Operation cannot be fulfilled on configmaps \"orders-config\": the object has been modified; please apply your changes to the latest version and try again", stale, StringComparison.Ordinal);

        // Server-side apply: the fields kubectl-edit and kubectl-replace set are theirs, so it conflicts until forced.
        await File.WriteAllTextAsync(manifest, Manifest($"{kubectl}-server-side"));
        var conflict = await RunAsync(Kubectl(kubectl), [$"--kubeconfig={fixture.Kubeconfig}", "apply", "--server-side", "-f", manifest], expectSuccess: false);
        Assert.Contains("Apply failed with 1 conflict: conflict with \"kubectl-replace\" using v1: .data.appsettings.json", conflict, StringComparison.Ordinal);
        await KubectlAsync(kubectl, "apply", "--server-side", "--force-conflicts", "-f", manifest);
        await ExpectInPodAsync($"{kubectl}-server-side");
        var managers = JsonNode.Parse(await KubectlAsync(kubectl, "get", "configmap", "orders-config", "-o", "json", "--show-managed-fields"))!["metadata"]!["managedFields"]!.AsArray();
        Assert.Contains(managers, m => (string?)m!["manager"] == "kubectl" && (string?)m["operation"] == "Apply" && m["fieldsV1"]!["f:data"]!["f:appsettings.json"] is not null);
    }

    [Fact]
    public async Task A_secret_reads_as_the_server_shows_it_and_a_patch_of_its_string_data_reaches_the_pods_file()
    {
        var secret = JsonNode.Parse(await KubectlAsync("kubectl", "get", "secret", "orders-secret", "-o", "json"))!;
        Assert.Equal("Opaque", (string?)secret["type"]);
        var password = (string?)secret["data"]!["password"];
        Assert.Equal(SandboxCluster.SecretText, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(password!)));

        await KubectlAsync("kubectl", "patch", "secret", "orders-secret", "-p", """{"stringData":{"password":"rotated"}}""");

        await WaitUntilAsync(TimeSpan.FromSeconds(2), () => File.ReadAllText(fixture.PodRoot + SandboxCluster.SecretPath) == "rotated");
        var patched = JsonNode.Parse(await KubectlAsync("kubectl", "get", "secret", "orders-secret", "-o", "json"))!;
        Assert.Equal(Convert.ToBase64String("rotated"u8), (string?)patched["data"]!["password"]);
        Assert.Null(patched["stringData"]); // write-only
        await KubectlAsync("kubectl", "patch", "secret", "orders-secret", "-p", new JsonObject { ["stringData"] = new JsonObject { ["password"] = SandboxCluster.SecretText } }.ToJsonString());
        await WaitUntilAsync(TimeSpan.FromSeconds(2), () => File.ReadAllText(fixture.PodRoot + SandboxCluster.SecretPath) == SandboxCluster.SecretText);
    }

    [Fact]
    public async Task A_reload_on_change_app_under_the_hook_sees_a_kubectl_patch_of_the_configmap()
    {
        var resume = Path.Combine(fixture.Directory, "resume-reload");
        var app = AppRun.StartAsync(new Dictionary<string, string?>
        {
            ["KUBECONFIG"] = fixture.Kubeconfig,
            ["CLUSTERCONTEXT_TARGET"] = $"deployment/{SandboxCluster.Deployment}",
            ["CLUSTERCONTEXT_REQUIRED"] = "true",
        }, null, $"config-reload:{SandboxCluster.ConfigPath}|Orders:Source|{resume}");
        var initial = await app.NextLineAsync();
        Assert.StartsWith("config-initial\t", initial, StringComparison.Ordinal);
        Assert.NotEqual("config-initial\treloaded", initial);

        await KubectlAsync("kubectl", "patch", "configmap", "orders-config", "-p",
            new JsonObject { ["data"] = new JsonObject { ["appsettings.json"] = """{"Orders":{"Source":"reloaded"}}""" } }.ToJsonString());
        await File.WriteAllTextAsync(resume, "");
        var run = await app.CompleteAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.StartsWith("reloaded after ", run[$"config-reload:{SandboxCluster.ConfigPath}|Orders:Source|{resume}"], StringComparison.Ordinal);
    }

    private static string Config(string source) => "{\"Orders\":{\"Source\":\"" + source + "\"}}";

    private static List<string?> Names(JsonNode view, string kind) => [.. view[kind]!.AsArray().Select(n => (string?)n)];

    /// <summary>What the C# client reads, in the shape the Python script prints.</summary>
    private async Task<JsonNode> ReadWithCSharpClientAsync()
    {
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(fixture.Kubeconfig));
        const string ns = SandboxCluster.Namespace;
        var view = new JsonObject();
        async Task EachAsync(string kind, Func<Task<IEnumerable<string>>> list, Func<string, Task> read)
        {
            var names = new JsonArray();
            foreach (var name in await list())
            {
                await read(name);
                names.Add(name);
            }

            view[kind] = names;
        }

        await EachAsync("pods", async () => (await client.CoreV1.ListNamespacedPodAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.CoreV1.ReadNamespacedPodAsync(n, ns));
        await EachAsync("services", async () => (await client.CoreV1.ListNamespacedServiceAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.CoreV1.ReadNamespacedServiceAsync(n, ns));
        await EachAsync("configmaps", async () => (await client.CoreV1.ListNamespacedConfigMapAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.CoreV1.ReadNamespacedConfigMapAsync(n, ns));
        await EachAsync("secrets", async () => (await client.CoreV1.ListNamespacedSecretAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.CoreV1.ReadNamespacedSecretAsync(n, ns));
        await EachAsync("deployments", async () => (await client.AppsV1.ListNamespacedDeploymentAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.AppsV1.ReadNamespacedDeploymentAsync(n, ns));
        await EachAsync("replicasets", async () => (await client.AppsV1.ListNamespacedReplicaSetAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.AppsV1.ReadNamespacedReplicaSetAsync(n, ns));
        await EachAsync("statefulsets", async () => (await client.AppsV1.ListNamespacedStatefulSetAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.AppsV1.ReadNamespacedStatefulSetAsync(n, ns));
        await EachAsync("jobs", async () => (await client.BatchV1.ListNamespacedJobAsync(ns)).Items.Select(i => i.Metadata.Name), n => client.BatchV1.ReadNamespacedJobAsync(n, ns));
        await EachAsync("namespaces", async () => (await client.CoreV1.ListNamespaceAsync()).Items.Select(i => i.Metadata.Name), n => client.CoreV1.ReadNamespaceAsync(n));
        var pod = await client.CoreV1.ReadNamespacedPodAsync(SandboxCluster.Pod, ns);
        view["imageID"] = pod.Status.ContainerStatuses[0].ImageID;
        view["qosClass"] = pod.Status.QosClass;
        view["secret"] = System.Text.Encoding.UTF8.GetString((await client.CoreV1.ReadNamespacedSecretAsync("orders-secret", ns)).Data["password"]);
        view["ephemeral"] = new JsonArray([.. (pod.Status.EphemeralContainerStatuses ?? []).Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name,
            ["imageID"] = s.ImageID,
            ["containerID"] = s.ContainerID,
            ["state"] = s.State.Running is not null ? "running" : s.State.Terminated is not null ? "terminated" : "waiting",
        })]);
        return view;
    }

    /// <summary>The same reads with the Python client, printed as JSON: every list and get goes through its models' validation.</summary>
    private string WritePythonScript()
    {
        var script = Path.Combine(fixture.Directory, "clients.py");
        File.WriteAllText(script, $$"""
            import base64, json, sys
            from kubernetes import client, config
            config.load_kube_config(config_file=sys.argv[1])
            core, apps, batch = client.CoreV1Api(), client.AppsV1Api(), client.BatchV1Api()
            ns = "{{SandboxCluster.Namespace}}"
            view = {}
            def each(kind, lister, reader):
                view[kind] = [reader(item.metadata.name, ns).metadata.name for item in lister(ns).items]
            each("pods", core.list_namespaced_pod, core.read_namespaced_pod)
            each("services", core.list_namespaced_service, core.read_namespaced_service)
            each("configmaps", core.list_namespaced_config_map, core.read_namespaced_config_map)
            each("secrets", core.list_namespaced_secret, core.read_namespaced_secret)
            each("deployments", apps.list_namespaced_deployment, apps.read_namespaced_deployment)
            each("replicasets", apps.list_namespaced_replica_set, apps.read_namespaced_replica_set)
            each("statefulsets", apps.list_namespaced_stateful_set, apps.read_namespaced_stateful_set)
            each("jobs", batch.list_namespaced_job, batch.read_namespaced_job)
            view["namespaces"] = [core.read_namespace(n.metadata.name).metadata.name for n in core.list_namespace().items]
            pod = core.read_namespaced_pod("{{SandboxCluster.Pod}}", ns)
            view["imageID"] = pod.status.container_statuses[0].image_id
            view["qosClass"] = pod.status.qos_class
            view["secret"] = base64.b64decode(core.read_namespaced_secret("orders-secret", ns).data["password"]).decode()
            def state(s):
                return "running" if s.state.running else "terminated" if s.state.terminated else "waiting"
            view["ephemeral"] = [{"name": s.name, "imageID": s.image_id, "containerID": s.container_id, "state": state(s)}
                                 for s in (pod.status.ephemeral_container_statuses or [])]
            print(json.dumps(view))
            """);
        return script;
    }

    private static string Manifest(string source, string? extra = null) => $$"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: orders-config
          namespace: {{SandboxCluster.Namespace}}
        data:
          appsettings.json: '{{Config(source)}}'
        {{(extra is null ? "" : "  " + extra)}}
        """;

    private Task<string> KubectlAsync(string kubectl, params string[] arguments) => KubectlAsync(kubectl, arguments, []);

    /// <summary>kubectl on PATH, or one of the versions installed beside it (kubectl.1.32 next to the binary the PATH entry links to).</summary>
    private static string Kubectl(string name)
    {
        if (name == "kubectl")
        {
            return name;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "kubectl")).First(File.Exists);
        var binary = new FileInfo(onPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? onPath;
        var sibling = Path.Combine(Path.GetDirectoryName(binary)!, name);
        Assert.True(File.Exists(sibling), $"{name} is not installed beside {binary}.");
        return sibling;
    }

    private Task<string> KubectlAsync(string kubectl, string[] arguments, Dictionary<string, string> environment) =>
        RunAsync(Kubectl(kubectl), [$"--kubeconfig={fixture.Kubeconfig}", .. arguments], environment: environment);

    /// <summary>Runs a client; its output, or (when it is expected to fail) what it printed on both streams.</summary>
    private async Task<string> RunAsync(string program, string[] arguments, bool expectSuccess = true, Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["KUBECACHEDIR"] = Path.Combine(fixture.Directory, "kubecache");
        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (expectSuccess)
        {
            Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {await errors}");
            return output;
        }

        Assert.True(process.ExitCode != 0, $"{program} {string.Join(' ', arguments)} succeeded: {output}");
        return output + await errors;
    }

    private static async Task WaitUntilAsync(TimeSpan limit, Func<bool> condition, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < limit, describe?.Invoke() ?? $"The condition did not hold within {limit.TotalSeconds} s.");
            await Task.Delay(20);
        }
    }
}
