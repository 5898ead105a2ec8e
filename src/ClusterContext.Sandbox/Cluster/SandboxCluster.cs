using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Kube;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing.Cluster;

/// <summary>
/// A local stand-in for a small cluster: the Kubernetes API double serving namespace <c>shop</c> with deployment
/// <c>orders</c> (replica set, one ready pod) whose pod is a real pod sandbox, services <c>redis</c> (a real
/// redis-server), <c>web</c> (HTTP) and <c>orders</c> (cluster IP to the pod's 8080, reached from pod <c>client</c>,
/// a network namespace of its own), and a kubelet part that runs ephemeral containers (the agent) in the pod.
/// Disposing it removes every namespace, mount, process and route it made.
/// </summary>
public sealed class SandboxCluster : IAsyncDisposable
{
    public const string Namespace = "shop";
    public const string Deployment = "orders";
    public const string ReplicaSet = "orders-7d9f8";
    public const string Pod = "orders-7d9f8-abcde";
    public const string Container = "app";
    public const string Image = "registry.local/shop/orders:1.4.2";
    public const int AppPort = 8080;
    public const string AppBody = "orders";
    public const string ConfigPath = "/etc/orders/appsettings.json";
    public const string ConfigText = """{"Orders":{"Source":"configmap"}}""";
    public const string SecretPath = "/var/run/secrets/orders/password";
    public const string SecretText = "sandbox-orders-password";
    public const int WebPort = 8080;
    public const string WebBody = "web";
    public const string ServiceAccount = "orders";

    /// <summary>The <c>orders</c> service's DNS name; from the client pod it reaches the pod's <see cref="AppPort"/>.</summary>
    public const string OrdersHost = $"orders.{Namespace}.svc.cluster.local";

    /// <summary>The client pod: another pod of the namespace, in its own network namespace, sending traffic to the service and the pod IP.</summary>
    public const string ClientPod = "client";

    /// <summary>The <c>orders</c> service's cluster IP (port <see cref="AppPort"/> to the pod's <see cref="AppPort"/>).</summary>
    public static IPAddress OrdersIP { get; } = IPAddress.Parse("10.96.0.80");

    /// <summary>The user the API server sees for the pod's service-account token.</summary>
    public const string ServiceAccountUser = $"system:serviceaccount:{Namespace}:{ServiceAccount}";

    /// <summary>Where, inside the app container's root, the app's canned HTTP answer is kept (read per request).</summary>
    private const string ResponseFile = "/srv/orders/response.http";

    /// <summary>
    /// What answers each connection: it reads the request's head (through its empty line) before answering, so the
    /// connection ends with a FIN; answering unread would have the request's late bytes draw a reset that can
    /// discard the answer before the client (or a port-forward) reads it.
    /// </summary>
    private const string ServeScript = "/srv/orders/serve.sh";

    private readonly List<IAsyncDisposable> _parts = [];

    private SandboxCluster()
    {
    }

    /// <summary>The pod sandbox behind pod <see cref="Pod"/>.</summary>
    public PodSandbox Sandbox { get; private set; } = null!;

    /// <summary>The API server double.</summary>
    public KubeApiServer Api { get; private set; } = null!;

    /// <summary>Runs ephemeral containers in the pod sandbox.</summary>
    public SandboxKubelet Kubelet { get; private set; } = null!;

    /// <summary>Projects changes of the pod's ConfigMap and Secret into its mounted files, as the kubelet does.</summary>
    public SandboxPodVolumes Volumes { get; private set; } = null!;

    /// <summary>The <c>web</c> service's cluster IP.</summary>
    public IPAddress WebIP { get; private set; } = IPAddress.None;

    /// <summary>Starts the sandbox, its services and the API server, reporting each step to <paramref name="progress"/>.</summary>
    public static async Task<SandboxCluster> StartAsync(IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var cluster = new SandboxCluster();
        try
        {
            await cluster.StartCoreAsync(progress, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes a kubeconfig reaching this cluster with a client certificate (context <c>sandbox</c>, namespace <c>shop</c>).</summary>
    public string WriteKubeconfig(string path) => Api.WriteClientCertificateKubeconfig(path, Namespace);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // In reverse order of start: the kubelet's agents, the API server, the web service, then the sandbox itself.
        for (var i = _parts.Count - 1; i >= 0; i--)
        {
            await _parts[i].DisposeAsync();
        }

        _parts.Clear();
    }

    private async Task StartCoreAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        // The pod's service-account volume holds a token the API server knows and the CA that signed its certificate,
        // so an in-cluster client in the pod (or run under the hook) reaches it at KUBERNETES_SERVICE_HOST as that pod.
        var pki = new TestPki();
        var token = FakeServiceAccountToken.Create(Namespace, Pod, ServiceAccount);
        var options = new PodSandboxOptions
        {
            Namespace = Namespace,
            PodName = Pod,
            ServiceAccountToken = token,
            ServiceAccountCaCertificatePem = pki.AuthorityPem,
            ServiceVariables = true,
        };
        options.Files.Clear();
        options.Files[ConfigPath] = Encoding.UTF8.GetBytes(ConfigText);
        options.Files[SecretPath] = Encoding.UTF8.GetBytes(SecretText);
        options.AppCommand.Clear();

        // The app container serves HTTP on 8080; socat answers each connection (ServeScript) from a file in the container's root,
        // and logs (-d -d: notices on stderr) that it listens and each connection it accepts, for kubectl logs.
        options.AppCommand.Add("/usr/bin/socat");
        options.AppCommand.Add("-d");
        options.AppCommand.Add("-d");
        options.AppCommand.Add($"TCP-LISTEN:{AppPort},reuseaddr,fork");
        options.AppCommand.Add($"SYSTEM:sh {ServeScript}");

        progress?.Report($"Starting pod {Namespace}/{Pod} (network and mount namespaces, container '{Container}', cluster DNS, redis)...");
        Sandbox = await PodSandbox.StartAsync(options, cancellationToken);
        _parts.Add(Sandbox);
        var response = Sandbox.RootFsPath + ResponseFile;
        Directory.CreateDirectory(Path.GetDirectoryName(response)!);
        await File.WriteAllTextAsync(Sandbox.RootFsPath + ServeScript, $"while IFS= read -r line && [ ${{#line}} -gt 1 ]; do :; done\ncat {ResponseFile}\n", cancellationToken);
        await File.WriteAllTextAsync(response, $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {AppBody.Length}\r\nConnection: close\r\n\r\n{AppBody}", cancellationToken);
        await WaitForAppAsync(cancellationToken);

        progress?.Report($"Starting pod {ClientPod} and service orders ({OrdersIP}:{AppPort} -> {Sandbox.PodIP}:{AppPort}, DNAT in the client's namespace as kube-proxy's)...");
        await Sandbox.AddClientServiceAsync(OrdersHost, OrdersIP, AppPort, AppPort, cancellationToken);
        await Sandbox.AddServiceRecordAsync(OrdersHost, OrdersIP, cancellationToken);

        progress?.Report("Starting service web (HTTP)...");
        WebIP = await Sandbox.AddServiceAddressAsync(21, cancellationToken);
        _parts.Add(await SandboxWebService.StartAsync(Sandbox, WebPort, WebBody, address: WebIP));

        progress?.Report("Starting the Kubernetes API server...");
        Api = await KubeApiServer.StartAsync(pki);
        _parts.Add(Api);
        Api.AddToken(token, ServiceAccountUser);
        Api.Bind(ServiceAccountUser, [new RoleRule([""], ["pods"], ["get", "list", "watch"])]);
        progress?.Report($"Serving the API inside the cluster at {TestPki.KubernetesServiceIP}:443 (service kubernetes)...");
        _parts.Add(await InClusterApiForwarder.StartAsync(Sandbox, TestPki.KubernetesServiceIP, 443, new IPEndPoint(IPAddress.Loopback, Api.Address.Port), cancellationToken));
        Kubelet = new SandboxKubelet(Api, Sandbox, Pod);
        _parts.Add(Kubelet);
        PutObjects();
        Volumes = new SandboxPodVolumes(Api, Sandbox, Pod);
        _parts.Add(Volumes);
    }

    /// <summary>Runs a host program (curl, wrk, python3) in pod <see cref="ClientPod"/>, where <see cref="OrdersHost"/> resolves to the service.</summary>
    public Task<PodCommandResult> RunInClientAsync(string fileName, IEnumerable<string> arguments, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Sandbox.RunInClientAsync(fileName, arguments, timeout, cancellationToken);

    /// <summary>A socket in pod <see cref="ClientPod"/>'s network namespace (connect it to <see cref="OrdersIP"/> or the pod IP).</summary>
    public Socket CreateClientSocket(AddressFamily addressFamily = AddressFamily.InterNetwork, SocketType socketType = SocketType.Stream, ProtocolType protocolType = ProtocolType.Tcp) =>
        Sandbox.CreateClientSocket(addressFamily, socketType, protocolType);

    /// <summary>GET / from inside the pod's network namespace until the app answers.</summary>
    private async Task WaitForAppAsync(CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        string seen = "no answer";
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var socket = Sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(Sandbox.PodIP, AppPort), cancellationToken);
                await socket.SendAsync("GET / HTTP/1.1\r\nHost: orders\r\n\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);
                using var stream = new NetworkStream(socket);
                seen = await new StreamReader(stream).ReadToEndAsync(cancellationToken);
                if (seen.EndsWith("\r\n\r\n" + AppBody, StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException ex)
            {
                seen = ex.Message;
            }

            await Task.Delay(20, cancellationToken);
        }

        throw new TimeoutException($"The app container did not answer GET / on port {AppPort} within 10 s (last: {seen}).");
    }

    private void PutObjects()
    {
        var labels = new Dictionary<string, string> { ["app"] = Deployment, ["pod-template-hash"] = "7d9f8" };
        var pod = SandboxKubelet.PodObject(Sandbox, Pod, Container, Image, labels, AppPort);
        pod["spec"]!["serviceAccountName"] = ServiceAccount;
        pod["spec"]!["serviceAccount"] = ServiceAccount;
        var metadata = pod["metadata"]!.AsObject();
        metadata["generateName"] = ReplicaSet + "-";
        var container = pod["spec"]!["containers"]![0]!.AsObject();
        container["volumeMounts"] = JsonNode.Parse("""
            [{"name":"config","mountPath":"/etc/orders","readOnly":true},
             {"name":"secret","mountPath":"/var/run/secrets/orders","readOnly":true},
             {"name":"kube-api-access","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}]
            """);
        pod["spec"]!["volumes"] = JsonNode.Parse("""
            [{"name":"config","configMap":{"name":"orders-config","defaultMode":420}},
             {"name":"secret","secret":{"secretName":"orders-secret","defaultMode":420}},
             {"name":"kube-api-access","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"path":"token","expirationSeconds":3607}}]}}]
            """);
        // The pod template is the pod's spec before scheduling: no node, no hostname of its own.
        var templateSpec = pod["spec"]!.DeepClone().AsObject();
        templateSpec.Remove("nodeName");
        templateSpec.Remove("hostname");
        var template = new JsonObject
        {
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null, ["labels"] = new JsonObject { ["app"] = Deployment } },
            ["spec"] = templateSpec,
        };

        Api.Put("configmaps", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "orders-config", ["namespace"] = Namespace },
            ["data"] = new JsonObject { ["appsettings.json"] = ConfigText },
        });
        Api.Put("secrets", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "orders-secret", ["namespace"] = Namespace },
            ["type"] = "Opaque",
            ["data"] = new JsonObject { [Path.GetFileName(SecretPath)] = Convert.ToBase64String(Encoding.UTF8.GetBytes(SecretText)) },
        });
        var now = ContainerStates.Now();
        Api.Put("deployments", new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = Deployment,
                ["namespace"] = Namespace,
                ["labels"] = new JsonObject { ["app"] = Deployment },
                ["generation"] = 1,
                ["annotations"] = new JsonObject { ["deployment.kubernetes.io/revision"] = "1" },
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = Deployment } },
                ["template"] = template,
                ["strategy"] = new JsonObject
                {
                    ["type"] = "RollingUpdate",
                    ["rollingUpdate"] = new JsonObject { ["maxSurge"] = "25%", ["maxUnavailable"] = "25%" },
                },
                ["progressDeadlineSeconds"] = 600,
                ["revisionHistoryLimit"] = 10,
            },
            ["status"] = Replicas(new JsonObject
            {
                ["observedGeneration"] = 1,
                ["updatedReplicas"] = 1,
                ["conditions"] = JsonNode.Parse($$"""
                    [{"type":"Available","status":"True","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability.",
                      "lastTransitionTime":"{{now}}","lastUpdateTime":"{{now}}"},
                     {"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"{{ReplicaSet}}\" has successfully progressed.",
                      "lastTransitionTime":"{{now}}","lastUpdateTime":"{{now}}"}]
                    """),
            }),
        });
        var deployment = Api.Get("deployments", Namespace, Deployment)!;
        Api.Put("replicasets", new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = ReplicaSet,
                ["namespace"] = Namespace,
                ["labels"] = new JsonObject { ["app"] = Deployment, ["pod-template-hash"] = "7d9f8" },
                ["annotations"] = new JsonObject
                {
                    ["deployment.kubernetes.io/desired-replicas"] = "1",
                    ["deployment.kubernetes.io/max-replicas"] = "2",
                    ["deployment.kubernetes.io/revision"] = "1",
                },
                ["ownerReferences"] = Owner("apps/v1", "Deployment", Deployment, (string)deployment["metadata"]!["uid"]!),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = Deployment, ["pod-template-hash"] = "7d9f8" } },
                ["template"] = ReplicaSetTemplate(template),
            },
            ["status"] = Replicas(new JsonObject { ["fullyLabeledReplicas"] = 1, ["observedGeneration"] = 1 }),
        });
        var replicaSet = Api.Get("replicasets", Namespace, ReplicaSet)!;
        metadata["ownerReferences"] = Owner("apps/v1", "ReplicaSet", ReplicaSet, (string)replicaSet["metadata"]!["uid"]!);
        Api.Put("pods", pod);
        Api.Put("services", Service("redis", Sandbox.RedisIP, PodSandbox.RedisPort));
        Api.Put("services", Service("web", WebIP, WebPort));
        Api.Put("services", Service("orders", OrdersIP, AppPort));
        Api.Put("pods", ClientPodObject());
        Api.Put("services", KubernetesService());
    }

    /// <summary>Pod <see cref="ClientPod"/>: a plain running pod at the client namespace's address.</summary>
    private JsonObject ClientPodObject()
    {
        var client = SandboxKubelet.PodObject(Sandbox, ClientPod, "client", "registry.local/shop/client:1", new Dictionary<string, string> { ["app"] = ClientPod });
        var container = client["spec"]!["containers"]![0]!.AsObject();
        container["env"] = new JsonArray();
        container.Remove("ports");
        client["spec"]!["hostname"] = ClientPod;
        client["status"]!["podIP"] = Sandbox.ClientIP.ToString();
        client["status"]!["podIPs"] = new JsonArray(new JsonObject { ["ip"] = Sandbox.ClientIP.ToString() });
        return client;
    }

    /// <summary>The <c>kubernetes</c> service every cluster has in <c>default</c>: no selector, port https 443 to the API server.</summary>
    private static JsonObject KubernetesService() => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = "kubernetes",
            ["namespace"] = "default",
            ["labels"] = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" },
        },
        ["spec"] = new JsonObject
        {
            ["type"] = "ClusterIP",
            ["clusterIP"] = TestPki.KubernetesServiceIP.ToString(),
            ["clusterIPs"] = new JsonArray(TestPki.KubernetesServiceIP.ToString()),
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["targetPort"] = 6443, ["protocol"] = "TCP" }),
            ["sessionAffinity"] = "None",
            ["internalTrafficPolicy"] = "Cluster",
            ["ipFamilies"] = new JsonArray("IPv4"),
            ["ipFamilyPolicy"] = "SingleStack",
        },
        ["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() },
    };

    /// <summary>The deployment's template as its replica set carries it: labelled with the template hash.</summary>
    private static JsonObject ReplicaSetTemplate(JsonObject template)
    {
        var copy = (JsonObject)template.DeepClone();
        copy["metadata"]!["labels"]!["pod-template-hash"] = "7d9f8";
        return copy;
    }

    private static JsonObject Replicas(JsonObject status)
    {
        status["replicas"] = 1;
        status["readyReplicas"] = 1;
        status["availableReplicas"] = 1;
        return status;
    }

    private static JsonArray Owner(string apiVersion, string kind, string name, string? uid = null) => new(new JsonObject
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["name"] = name,
        ["uid"] = uid ?? Guid.NewGuid().ToString(),
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    });

    private static JsonObject Service(string name, IPAddress clusterIP, int port) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = Namespace, ["labels"] = new JsonObject { ["app"] = name } },
        ["spec"] = new JsonObject
        {
            ["type"] = "ClusterIP",
            ["clusterIP"] = clusterIP.ToString(),
            ["clusterIPs"] = new JsonArray(clusterIP.ToString()),
            ["internalTrafficPolicy"] = "Cluster",
            ["ipFamilies"] = new JsonArray("IPv4"),
            ["ipFamilyPolicy"] = "SingleStack",
            ["sessionAffinity"] = "None",
            ["selector"] = new JsonObject { ["app"] = name },
            ["ports"] = new JsonArray(new JsonObject { ["port"] = port, ["targetPort"] = port, ["protocol"] = "TCP" }),
        },
        ["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() },
    };
}
