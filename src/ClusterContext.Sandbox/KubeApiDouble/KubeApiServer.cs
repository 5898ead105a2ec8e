using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// A Kubernetes API server double on loopback HTTPS: client-certificate, bearer-token and basic authentication,
/// legacy discovery, typed objects kept as JSON, label-selector lists, and <c>Status</c> errors shaped as the real
/// server shapes them. Behaviour beyond storage (ephemeral containers, port-forward) plugs in through
/// <see cref="Subresources"/>.
/// </summary>
public sealed partial class KubeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Password, string User)> _basic = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _denied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IReadOnlyList<RoleRule>> _roles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, (string Prefix, Channel<(string Type, JsonObject Object)> Events)> _watchers = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, string> _namespaceUids = new(StringComparer.Ordinal);
    private readonly string _started = ContainerStates.Now();
    private long _resourceVersion = 1000;
    private long _watcherIds;
    private readonly Lock _changes = new(); // a change and its watch events, or a watch's start and its snapshot, happen as one
    private string _pathBase = "";

    private KubeApiServer(WebApplication app, TestPki pki)
    {
        _app = app;
        Pki = pki;
        PortForwardConnect = ConnectToTargetAsync;
        Subresources["portforward"] = (context, @namespace, _, pod) => PortForwarder.HandleAsync(context, @namespace, pod, PortForwardConnect);
        Subresources["ephemeralcontainers"] = (context, @namespace, _, pod) => EphemeralContainers.HandleAsync(this, context, @namespace, pod);
        AddStreamingSubresources();
    }

    /// <summary>
    /// Starts an ephemeral container added to (namespace, pod) and returns the container state to report
    /// (running, or waiting with a reason such as ImagePullBackOff). By default it reports running at once.
    /// </summary>
    public Func<string, string, JsonObject, Task<JsonObject>> StartEphemeralContainer { get; set; } =
        (_, _, _) => Task.FromResult(ContainerStates.Running());

    /// <summary>Where a pod's port is reached from here: (namespace, pod, port) → endpoint, or null when nothing listens.</summary>
    public Func<string, string, int, EndPoint?> PortForwardTarget { get; set; } = (_, _, _) => null;

    /// <summary>
    /// Opens the connection a port-forward carries: (namespace, pod, port) → a connected socket, or a
    /// <see cref="SocketException"/> when nothing listens. The kubelet connects to localhost:port
    /// inside the pod's network namespace; by default this connects to <see cref="PortForwardTarget"/>.
    /// </summary>
    public Func<string, string, int, CancellationToken, Task<Socket>> PortForwardConnect { get; set; }

    private async Task<Socket> ConnectToTargetAsync(string @namespace, string pod, int port, CancellationToken cancellationToken)
    {
        var endpoint = PortForwardTarget(@namespace, pod, port) ?? throw new SocketException((int)SocketError.ConnectionRefused);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The resources served: plural name → (API group version path, kind, namespaced).</summary>
    public static IReadOnlyDictionary<string, (string GroupVersion, string Kind)> Resources { get; } = new Dictionary<string, (string, string)>
    {
        ["pods"] = ("v1", "Pod"),
        ["services"] = ("v1", "Service"),
        ["configmaps"] = ("v1", "ConfigMap"),
        ["secrets"] = ("v1", "Secret"),
        ["deployments"] = ("apps/v1", "Deployment"),
        ["statefulsets"] = ("apps/v1", "StatefulSet"),
        ["replicasets"] = ("apps/v1", "ReplicaSet"),
        ["jobs"] = ("batch/v1", "Job"),
        ["roles"] = ("rbac.authorization.k8s.io/v1", "Role"),
        ["rolebindings"] = ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    };

    /// <summary>The certificates the server uses and trusts.</summary>
    public TestPki Pki { get; }

    /// <summary>The server's address, e.g. <c>https://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Requests seen, as "METHOD path?query user", for tests that check what a client sent.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Watches open now (a test can wait for a client's watch to be in place before changing objects).</summary>
    public int ActiveWatches => _watchers.Count;

    /// <summary>
    /// Pod Security levels enforced per namespace (the value of its <c>pod-security.kubernetes.io/enforce</c> label:
    /// privileged, baseline or restricted); containers added to pods there are checked for their capabilities.
    /// </summary>
    public ConcurrentDictionary<string, string> PodSecurityEnforce { get; } = new(StringComparer.Ordinal);

    /// <summary>Handlers for subresources (e.g. "ephemeralcontainers", "portforward"), keyed by name.</summary>
    public ConcurrentDictionary<string, Func<HttpContext, string, string, string, Task>> Subresources { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts a server on a free port of <paramref name="listenAddress"/> (default loopback); with <paramref name="pathBase"/> (e.g. <c>/k8s/clusters/c-1</c>, as a
    /// management plane proxies clusters) every API path must start with it and <see cref="Address"/> includes it.
    /// </summary>
    public static async Task<KubeApiServer> StartAsync(TestPki? pki = null, string? pathBase = null, IPAddress? listenAddress = null)
    {
        listenAddress ??= IPAddress.Loopback;
        pki ??= new TestPki();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(listenAddress, 0, listen => listen.UseHttps(https =>
        {
            https.ServerCertificate = pki.Server;
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => pki.Issued(certificate);
        })));
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        var server = new KubeApiServer(app, pki) { _pathBase = pathBase?.TrimEnd('/') ?? "" };
        app.UseWebSockets();
        app.Run(server.HandleSafelyAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = new Uri(app.Urls.First());
        server.Address = new Uri($"https://{listenAddress}:{address.Port}{server._pathBase}");
        return server;
    }

    /// <summary>The first line of every kubeconfig this double writes, so a later run can tell its own files from a user's.</summary>
    public const string KubeconfigMarker = "# Kubernetes API double:";

    /// <summary>
    /// Writes a kubeconfig at <paramref name="path"/> whose current context reaches this server (trusting its CA) with
    /// bearer <paramref name="token"/>, in <paramref name="namespace"/>; the token is accepted as <paramref name="user"/>.
    /// </summary>
    public string WriteKubeconfig(string path, string token, string @namespace = "shop", string user = "developer")
    {
        AddToken(token, user);
        return WriteKubeconfigCore(path, @namespace, user, $"token: {token}");
    }

    /// <summary>
    /// Writes a kubeconfig at <paramref name="path"/> whose current context reaches this server (trusting its CA) with a
    /// client certificate this server's CA issued for <paramref name="user"/>, in <paramref name="namespace"/>.
    /// </summary>
    public string WriteClientCertificateKubeconfig(string path, string @namespace = "shop", string user = "developer")
    {
        using var certificate = Pki.IssueClient(user);
        var (pem, key) = TestPki.ToPem(certificate);
        return WriteKubeconfigCore(path, @namespace, user,
            $"client-certificate-data: {Base64(pem)}\n    client-key-data: {Base64(key)}");
    }

    private string WriteKubeconfigCore(string path, string @namespace, string user, string credentials)
    {
        File.WriteAllText(path, $"""
            {KubeconfigMarker} valid while the server at {Address} runs (process {Environment.ProcessId}).
            apiVersion: v1
            kind: Config
            current-context: sandbox
            clusters:
            - name: sandbox
              cluster:
                server: {Address}
                certificate-authority-data: {Base64(Pki.AuthorityPem)}
            users:
            - name: {user}
              user:
                {credentials}
            contexts:
            - name: sandbox
              context:
                cluster: sandbox
                user: {user}
                namespace: {@namespace}

            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // it holds credentials
        }

        return path;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>Accepts <paramref name="token"/> as a bearer token of <paramref name="user"/>.</summary>
    public void AddToken(string token, string user) => _tokens[token] = user;

    /// <summary>Stops accepting <paramref name="token"/> (as when it expires).</summary>
    public void RevokeToken(string token) => _tokens.TryRemove(token, out _);

    /// <summary>Accepts basic authentication of <paramref name="user"/>.</summary>
    public void AddBasicUser(string user, string password) => _basic[user] = (password, user);

    /// <summary>Denies <paramref name="verb"/> on <paramref name="resource"/> (e.g. "pods/ephemeralcontainers") to <paramref name="user"/>, as RBAC would.</summary>
    public void Deny(string user, string verb, string resource) => _denied[$"{user}|{verb}|{resource}"] = 0;

    /// <summary>From now on <paramref name="user"/> may do only what <paramref name="rules"/> allow, as a Role bound to them would.</summary>
    public void Bind(string user, IReadOnlyList<RoleRule> rules) => _roles[user] = rules;

    /// <summary>Takes back what <see cref="Bind"/> gave <paramref name="user"/>: RoleBindings alone decide again (nothing binding them: anything).</summary>
    public void Unbind(string user) => _roles.TryRemove(user, out _);

    /// <summary>Stores an object (namespaced by its metadata), assigning uid, resourceVersion and creationTimestamp.</summary>
    public JsonObject Put(string resource, JsonObject value)
    {
        var metadata = value["metadata"]!.AsObject();
        var (groupVersion, kind) = Resources[resource];
        value["apiVersion"] = groupVersion;
        value["kind"] = kind;
        metadata["namespace"] ??= "default";
        metadata["uid"] ??= Guid.NewGuid().ToString();
        metadata["creationTimestamp"] ??= ContainerStates.Now();
        if (kind is "Deployment" or "StatefulSet" or "ReplicaSet" or "Job")
        {
            metadata["generation"] ??= 1;
        }

        metadata["resourceVersion"] = Interlocked.Increment(ref _resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var key = Key(resource, (string)metadata["namespace"]!, (string)metadata["name"]!);
        lock (_changes)
        {
            var existed = _objects.ContainsKey(key);
            _objects[key] = value;
            Notify(key, existed ? "MODIFIED" : "ADDED", value);
        }

        return value;
    }

    /// <summary>Removes an object, as a delete that completes at once would (watchers see DELETED).</summary>
    public bool Delete(string resource, string @namespace, string name)
    {
        var key = Key(resource, @namespace, name);
        lock (_changes)
        {
            if (!_objects.TryRemove(key, out var removed))
            {
                return false;
            }

            removed = (JsonObject)removed.DeepClone();
            removed["metadata"]!["resourceVersion"] = Interlocked.Increment(ref _resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Notify(key, "DELETED", removed);
            return true;
        }
    }

    /// <summary>The stored object, or null.</summary>
    public JsonObject? Get(string resource, string @namespace, string name) =>
        _objects.TryGetValue(Key(resource, @namespace, name), out var value) ? value : null;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false); // open watches end now, so stopping does not wait for them
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Pki.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Writes a <c>Status</c> failure as the API server does.</summary>
    public static Task WriteStatusAsync(HttpContext context, int code, string reason, string message, string? name = null, string? kind = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (name is not null || kind is not null)
        {
            status["details"] = new JsonObject { ["name"] = name, ["kind"] = kind };
        }

        status["code"] = code;
        return WriteJsonAsync(context, status, code);
    }

    /// <summary>Changes a stored object in place under a new resourceVersion.</summary>
    public void Update(string resource, string @namespace, string name, Action<JsonObject> change)
    {
        lock (_objects)
        {
            if (Get(resource, @namespace, name) is { } current)
            {
                var copy = (JsonObject)current.DeepClone();
                change(copy);
                Put(resource, copy);
            }
        }
    }

    /// <summary>Records <paramref name="state"/> (running, waiting, terminated) for ephemeral container <paramref name="name"/> of a pod, as its kubelet would.</summary>
    public void SetEphemeralContainerState(string @namespace, string pod, string name, JsonObject state) =>
        Update("pods", @namespace, pod, value =>
        {
            foreach (var entry in value["status"]?["ephemeralContainerStatuses"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                if ((string?)entry["name"] != name)
                {
                    continue;
                }

                var next = (JsonObject)state.DeepClone();
                if (next["running"] is not null || next["terminated"] is not null)
                {
                    // A container that ran has an id and a resolved image; once ended, its state keeps when it started.
                    entry["containerID"] ??= ContainerStates.NewContainerId();
                    entry["imageID"] = ContainerStates.ImageId((string?)entry["image"] ?? "");
                    entry["started"] = next["running"] is not null;
                    if (next["terminated"] is JsonObject terminated)
                    {
                        terminated["containerID"] = (string?)entry["containerID"];
                        terminated["startedAt"] ??= (string?)entry["state"]?["running"]?["startedAt"] ?? (string?)terminated["finishedAt"];
                    }
                }

                entry["state"] = next;
            }
        });

    /// <summary>Writes a JSON answer.</summary>
    public static async Task WriteJsonAsync(HttpContext context, JsonNode body, int code = 200)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A boolean query parameter as Go's strconv.ParseBool reads it (Python sends "True").</summary>
    private static bool IsTrue(string value) => value is "1" or "t" or "T" or "true" or "TRUE" or "True";

    private static string Key(string resource, string @namespace, string name) => $"{resource}/{@namespace}/{name}";

    /// <summary>A fault in the double is answered as the server answers its own: a 500 Status saying what happened.</summary>
    private async Task HandleSafelyAsync(HttpContext context)
    {
        try
        {
            await HandleAsync(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
        {
            await WriteStatusAsync(context, 500, "InternalError", $"Internal error occurred: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var user = Authenticate(context);
        Requests.Enqueue($"{context.Request.Method} {path}{context.Request.QueryString} {user ?? "-"}");
        if (_pathBase.Length > 0)
        {
            if (!path.StartsWith(_pathBase + "/", StringComparison.Ordinal))
            {
                await WriteStatusAsync(context, 404, "NotFound", "the server could not find the requested resource").ConfigureAwait(false);
                return;
            }

            path = path[_pathBase.Length..];
        }

        if (user is null)
        {
            await WriteStatusAsync(context, 401, "Unauthorized", "Unauthorized").ConfigureAwait(false);
            return;
        }

        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (segments)
        {
            case ["version"]:
                await WriteJsonAsync(context, new JsonObject { ["major"] = "1", ["minor"] = "32", ["gitVersion"] = "v1.32.0", ["platform"] = "linux/amd64" }).ConfigureAwait(false);
                return;
            case ["api"]:
                await WriteJsonAsync(context, new JsonObject
                {
                    ["kind"] = "APIVersions",
                    ["versions"] = new JsonArray("v1"),
                    ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = Address.Authority }),
                }).ConfigureAwait(false);
                return;
            case ["apis"]:
                await WriteJsonAsync(context, GroupList()).ConfigureAwait(false);
                return;
            case ["api", "v1"]:
                await WriteJsonAsync(context, ResourceList("v1")).ConfigureAwait(false);
                return;
            case ["api", "v1", "namespaces", var ns]:
                await (Namespaces().Contains(ns)
                    ? WriteJsonAsync(context, Namespace(ns))
                    : WriteStatusAsync(context, 404, "NotFound", $"namespaces \"{ns}\" not found", ns, "namespaces")).ConfigureAwait(false);
                return;
            case ["api", "v1", "namespaces"]:
                await WriteJsonAsync(context, new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "NamespaceList",
                    ["metadata"] = new JsonObject { ["resourceVersion"] = Interlocked.Read(ref _resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    ["items"] = new JsonArray([.. Namespaces().Order(StringComparer.Ordinal).Select(n => (JsonNode)Namespace(n))]),
                }).ConfigureAwait(false);
                return;
            case ["openapi", "v3"]:
                await WriteJsonAsync(context, OpenApi.Root()).ConfigureAwait(false);
                return;
            case ["openapi", "v3", "api", var coreVersion] when OpenApi.Document(coreVersion) is { } core:
                await WriteJsonAsync(context, core).ConfigureAwait(false);
                return;
            case ["openapi", "v3", "apis", var documentGroup, var documentVersion] when OpenApi.Document($"{documentGroup}/{documentVersion}") is { } document:
                await WriteJsonAsync(context, document).ConfigureAwait(false);
                return;
            case ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"]:
                await HandleAccessReviewAsync(context, user).ConfigureAwait(false);
                return;
            case ["apis", var apiGroup, var version]:
                await WriteJsonAsync(context, ResourceList($"{apiGroup}/{version}")).ConfigureAwait(false);
                return;
        }

        var offset = segments is ["api", "v1", ..] ? 2 : segments is ["apis", _, _, ..] ? 3 : -1;
        if (offset < 0 || segments.Length < offset + 3 || segments[offset] != "namespaces")
        {
            await WriteStatusAsync(context, 404, "NotFound", "the server could not find the requested resource").ConfigureAwait(false);
            return;
        }

        var groupVersion = string.Join('/', segments[1..offset]);
        var @namespace = segments[offset + 1];
        var resource = segments[offset + 2];
        var name = segments.Length > offset + 3 ? segments[offset + 3] : null;
        var subresource = segments.Length > offset + 4 ? segments[offset + 4] : null;
        if (!Resources.TryGetValue(resource, out var served) || served.GroupVersion != groupVersion || segments.Length > offset + 5)
        {
            await WriteStatusAsync(context, 404, "NotFound", "the server could not find the requested resource").ConfigureAwait(false);
            return;
        }

        var verb = Verb(context.Request.Method, name, IsTrue(context.Request.Query["watch"].ToString()));
        var checkedResource = subresource is null ? resource : $"{resource}/{subresource}";
        var group = groupVersion.Contains('/', StringComparison.Ordinal) ? groupVersion.Split('/')[0] : "";

        // A WebSocket port-forward or exec is a GET, and the server also asks for "create", the verb of the SPDY POST.
        if (subresource is "portforward" or "exec" && verb == "get" && !Allowed(user, @namespace, group, checkedResource, "create"))
        {
            verb = "create";
        }

        if (_denied.ContainsKey($"{user}|{verb}|{checkedResource}") || !Allowed(user, @namespace, group, checkedResource, verb))
        {
            var what = name is null ? checkedResource : $"{resource} \"{name}\"";
            await WriteStatusAsync(context, 403, "Forbidden",
                $"{what} is forbidden: User \"{user}\" cannot {verb} resource \"{checkedResource}\" in API group \"{group}\" in the namespace \"{@namespace}\"",
                name, resource).ConfigureAwait(false);
            return;
        }

        if (context.Request.Method is "POST" or "PUT" && subresource is null
            && context.Request.ContentType?.Split(';')[0].Trim() is { Length: > 0 } bodyType && bodyType != "application/json"
            && !(bodyType == ProtobufBody.ContentType && ProtobufBody.CanRead(resource)))
        {
            // Protobuf of other kinds, and CBOR, are not read here: refused as the server refuses a format it lacks.
            await WriteStatusAsync(context, 415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: application/json").ConfigureAwait(false);
            return;
        }

        if (name is null && context.Request.Method == "POST")
        {
            await CreateAsync(context, resource, @namespace).ConfigureAwait(false);
            return;
        }

        if (name is null)
        {
            await ListAsync(context, resource, @namespace).ConfigureAwait(false);
            return;
        }

        if (subresource is null && context.Request.Method is "PUT" or "PATCH")
        {
            await WriteObjectAsync(context, resource, @namespace, name).ConfigureAwait(false);
            return;
        }

        if (Get(resource, @namespace, name) is not { } found)
        {
            await WriteStatusAsync(context, 404, "NotFound", $"{resource} \"{name}\" not found", name, resource).ConfigureAwait(false);
            return;
        }

        if (subresource is not null)
        {
            if (!Subresources.TryGetValue(subresource, out var handler))
            {
                await WriteStatusAsync(context, 404, "NotFound", "the server could not find the requested resource", "", resource).ConfigureAwait(false);
                return;
            }

            await handler(context, @namespace, resource, name).ConfigureAwait(false);
            return;
        }

        if (context.Request.Method == "DELETE" && subresource is null)
        {
            Delete(resource, @namespace, name);
            if (resource is "pods" or "services")
            {
                await WriteJsonAsync(context, found).ConfigureAwait(false); // these kinds' stores answer with the deleted object
                return;
            }

            // The others answer a delete that completed at once with a Success Status naming the object.
            await WriteJsonAsync(context, new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Success",
                ["details"] = new JsonObject
                {
                    ["name"] = name,
                    ["group"] = group,
                    ["kind"] = resource,
                    ["uid"] = (string?)found["metadata"]!["uid"],
                },
            }).ConfigureAwait(false);
            return;
        }

        if (context.Request.Method != "GET")
        {
            await WriteStatusAsync(context, 405, "MethodNotAllowed", $"the server does not allow this method on the requested resource").ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, Tables.Wanted(context.Request.Headers.Accept.ToString())
            ? Tables.Of(resource, [found], (string)found["metadata"]!["resourceVersion"]!)
            : found).ConfigureAwait(false);
    }

    /// <summary>POST to a collection: 201 with the stored object, 409 AlreadyExists, 400 for a body of another namespace.</summary>
    private async Task CreateAsync(HttpContext context, string resource, string @namespace)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonPatch.Parse(await ReadBodyAsync(context, resource).ConfigureAwait(false));
        }
        catch (PatchException ex)
        {
            await WriteRefusalAsync(context, ex, "", resource).ConfigureAwait(false);
            return;
        }

        if (parsed is not JsonObject body || body["metadata"]?["name"] is not JsonValue nameNode || nameNode.GetValue<string>() is not { Length: > 0 } name)
        {
            await WriteStatusAsync(context, 422, "Invalid", $"{resource} is invalid: metadata.name: Required value: name or generateName is required").ConfigureAwait(false);
            return;
        }

        var metadata = body["metadata"]!.AsObject();
        if ((string?)metadata["namespace"] is { } given && given != @namespace)
        {
            await WriteStatusAsync(context, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request").ConfigureAwait(false);
            return;
        }

        metadata["namespace"] = @namespace;
        var (groupVersion, kind) = Resources[resource];
        var query = context.Request.Query;
        bool created;
        List<string> warnings;
        try
        {
            lock (_objects)
            {
                created = Get(resource, @namespace, name) is null;
                metadata.Remove("resourceVersion");
                metadata.Remove("uid");
                metadata.Remove("creationTimestamp");
                metadata.Remove("managedFields");
                warnings = ObjectRules.Prepare(groupVersion, kind, body, null, query["fieldValidation"].ToString());
                var manager = query["fieldManager"].ToString() is { Length: > 0 } named ? named : context.Request.Headers.UserAgent.ToString().Split('/')[0];
                ManagedFields.RecordUpdate(kind, groupVersion, null, body, manager);
                if (created && query["dryRun"].Count == 0)
                {
                    Put(resource, body);
                }
                else if (created)
                {
                    body["apiVersion"] = groupVersion;
                    body["kind"] = kind;
                    metadata["uid"] = Guid.NewGuid().ToString();
                    metadata["creationTimestamp"] = ContainerStates.Now();
                }
            }
        }
        catch (PatchException ex)
        {
            await WriteRefusalAsync(context, ex, name, resource).ConfigureAwait(false);
            return;
        }

        foreach (var warning in warnings)
        {
            context.Response.Headers.Append("Warning", $"299 - \"{warning.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }

        await (created
            ? WriteJsonAsync(context, body, 201)
            : WriteStatusAsync(context, 409, "AlreadyExists", $"{resource} \"{name}\" already exists", name, resource)).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpContext context, string resource, string @namespace)
    {
        LabelSelector selector;
        FieldSelector fields;
        try
        {
            selector = LabelSelector.Parse(context.Request.Query["labelSelector"].ToString());
            fields = FieldSelector.Parse(context.Request.Query["fieldSelector"].ToString(), resource);
        }
        catch (FormatException ex)
        {
            await WriteStatusAsync(context, 400, "BadRequest", ex.Message).ConfigureAwait(false);
            return;
        }

        bool Selected(JsonObject value) => selector.Matches(value["metadata"]?["labels"] as JsonObject) && fields.Matches(value);
        if (IsTrue(context.Request.Query["watch"].ToString()))
        {
            await WatchAsync(context, resource, @namespace, Selected).ConfigureAwait(false);
            return;
        }

        var prefix = Key(resource, @namespace, "");
        var items = new JsonArray();
        foreach (var (key, value) in _objects.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && Selected(value))
            {
                items.Add(value.DeepClone());
            }
        }

        var version = Interlocked.Read(ref _resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Tables.Wanted(context.Request.Headers.Accept.ToString()))
        {
            await WriteJsonAsync(context, Tables.Of(resource, items.Select(i => i!.AsObject()), version)).ConfigureAwait(false);
            return;
        }

        var (groupVersion, kind) = Resources[resource];
        await WriteJsonAsync(context, new JsonObject
        {
            ["apiVersion"] = groupVersion,
            ["kind"] = kind + "List",
            ["metadata"] = new JsonObject { ["resourceVersion"] = version },
            ["items"] = items,
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// A watch, as the API server streams it: one JSON event per line (<c>{"type":"ADDED","object":{...}}</c>), first
    /// the current objects (unless a resourceVersion is given: then the ones changed since), then every change, until
    /// <c>timeoutSeconds</c> (default 30 minutes), the client leaving, or the server stopping.
    /// </summary>
    private async Task WatchAsync(HttpContext context, string resource, string @namespace, Func<JsonObject, bool> selected)
    {
        var prefix = Key(resource, @namespace, "");
        var events = Channel.CreateUnbounded<(string Type, JsonObject Object)>(new UnboundedChannelOptions { SingleReader = true });
        var id = Interlocked.Increment(ref _watcherIds);
        try
        {
            // Registering and taking the snapshot under the change lock: every later change comes after it, in order.
            var since = long.TryParse(context.Request.Query["resourceVersion"], System.Globalization.CultureInfo.InvariantCulture, out var rv) ? rv : 0;
            lock (_changes)
            {
                _watchers[id] = (prefix, events);
                foreach (var (key, value) in _objects.OrderBy(o => o.Key, StringComparer.Ordinal))
                {
                    if (key.StartsWith(prefix, StringComparison.Ordinal) &&
                        long.Parse((string)value["metadata"]!["resourceVersion"]!, System.Globalization.CultureInfo.InvariantCulture) > since)
                    {
                        events.Writer.TryWrite((since == 0 ? "ADDED" : "MODIFIED", value));
                    }
                }
            }

            var timeout = int.TryParse(context.Request.Query["timeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : 1800;
            using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            end.CancelAfter(TimeSpan.FromSeconds(timeout));
            var table = Tables.Wanted(context.Request.Headers.Accept.ToString());
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(end.Token).ConfigureAwait(false);
            try
            {
                await foreach (var (type, value) in events.Reader.ReadAllAsync(end.Token).ConfigureAwait(false))
                {
                    if (!selected(value))
                    {
                        continue;
                    }

                    var copy = (JsonObject)value.DeepClone();
                    var shown = table ? Tables.Of(resource, [copy], (string)copy["metadata"]!["resourceVersion"]!) : copy;
                    var line = new JsonObject { ["type"] = type, ["object"] = shown }.ToJsonString() + "\n";
                    await context.Response.WriteAsync(line, end.Token).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(end.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The watch's time is up, the client left, or the server stops: the stream just ends.
            }
        }
        finally
        {
            _watchers.TryRemove(id, out _);
        }
    }

    private void Notify(string key, string type, JsonObject value)
    {
        foreach (var (prefix, events) in _watchers.Values)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                events.Writer.TryWrite((type, (JsonObject)value.DeepClone()));
            }
        }
    }

    private HashSet<string> Namespaces() =>
        [.. _objects.Keys.Select(k => k.Split('/')[1]), "default", "kube-system"];

    /// <summary>A namespace as the server shows it: one uid per name for the server's life, created when the server started.</summary>
    private JsonObject Namespace(string name) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Namespace",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["uid"] = _namespaceUids.GetOrAdd(name, _ => Guid.NewGuid().ToString()),
            ["resourceVersion"] = "1",
            ["creationTimestamp"] = _started,
            ["labels"] = PodSecurityEnforce.TryGetValue(name, out var level)
                ? new JsonObject { ["kubernetes.io/metadata.name"] = name, ["pod-security.kubernetes.io/enforce"] = level }
                : new JsonObject { ["kubernetes.io/metadata.name"] = name },
        },
        ["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") },
        ["status"] = new JsonObject { ["phase"] = "Active" },
    };

    private static string Verb(string method, string? name, bool watch) => method switch
    {
        "GET" => watch ? "watch" : name is null ? "list" : "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => method.ToLowerInvariant(),
    };

    private string? Authenticate(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return _tokens.TryGetValue(authorization[7..], out var user) ? user : null;
        }

        if (authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..])).Split(':', 2);
            return pair.Length == 2 && _basic.TryGetValue(pair[0], out var entry) && entry.Password == pair[1] ? entry.User : null;
        }

        return context.Connection.ClientCertificate is X509Certificate2 certificate
            ? certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false)
            : null;
    }

    private static JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var groupVersion in Resources.Values.Select(r => r.GroupVersion).Where(g => g.Contains('/', StringComparison.Ordinal)).Distinct())
        {
            var version = new JsonObject { ["groupVersion"] = groupVersion, ["version"] = groupVersion.Split('/')[1] };
            groups.Add(new JsonObject
            {
                ["name"] = groupVersion.Split('/')[0],
                ["versions"] = new JsonArray(version),
                ["preferredVersion"] = version.DeepClone(),
            });
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    private static JsonObject ResourceList(string groupVersion)
    {
        var resources = new JsonArray();
        if (groupVersion == "v1")
        {
            resources.Add(new JsonObject { ["name"] = "namespaces", ["singularName"] = "namespace", ["namespaced"] = false, ["kind"] = "Namespace", ["verbs"] = new JsonArray("get", "list"), ["shortNames"] = new JsonArray("ns") });
        }

        foreach (var (name, (gv, kind)) in Resources.Where(r => r.Value.GroupVersion == groupVersion))
        {
            resources.Add(new JsonObject
            {
                ["name"] = name,
                ["singularName"] = kind.ToLowerInvariant(),
                ["namespaced"] = true,
                ["kind"] = kind,
                ["verbs"] = new JsonArray("create", "delete", "get", "list", "patch", "update", "watch"),
                ["shortNames"] = ShortNames(name),
                ["categories"] = name is "configmaps" or "secrets" or "roles" or "rolebindings" ? new JsonArray() : new JsonArray("all"), // what "kubectl get all" lists
            });
            if (name == "pods")
            {
                resources.Add(new JsonObject { ["name"] = "pods/ephemeralcontainers", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "Pod", ["verbs"] = new JsonArray("get", "patch", "update") });
                resources.Add(new JsonObject { ["name"] = "pods/portforward", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "PodPortForwardOptions", ["verbs"] = new JsonArray("create", "get") });
                resources.Add(new JsonObject { ["name"] = "pods/log", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "Pod", ["verbs"] = new JsonArray("get") });
                resources.Add(new JsonObject { ["name"] = "pods/exec", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "PodExecOptions", ["verbs"] = new JsonArray("create", "get") });
            }
        }

        return new JsonObject { ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = groupVersion, ["resources"] = resources };
    }

    private static JsonArray ShortNames(string resource) => resource switch
    {
        "pods" => new JsonArray("po"),
        "services" => new JsonArray("svc"),
        "configmaps" => new JsonArray("cm"),
        "deployments" => new JsonArray("deploy"),
        "statefulsets" => new JsonArray("sts"),
        "replicasets" => new JsonArray("rs"),
        _ => [],
    };
}
