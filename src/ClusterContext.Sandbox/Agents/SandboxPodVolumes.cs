using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Kube;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing;

/// <summary>
/// The kubelet's ConfigMap and Secret volumes for one pod sandbox: it watches the API double's ConfigMaps and Secrets
/// of the pod's namespace and, when one a volume of the pod projects changes, writes the volume's new content into
/// the sandbox by the atomic writer's <c>..data</c> swap (<see cref="PodSandbox.PublishVolumeAsync"/>). As with the
/// kubelet: a volume's <c>items</c> choose keys and paths (all keys otherwise), a deleted object leaves the files as they
/// were, and a file mounted by <c>subPath</c> never changes (the kubelet does not update subPath mounts).
/// </summary>
public sealed class SandboxPodVolumes : IAsyncDisposable
{
    private readonly KubeApiServer _server;
    private readonly PodSandbox _sandbox;
    private readonly string _pod;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _watches;

    public SandboxPodVolumes(KubeApiServer server, PodSandbox sandbox, string podName)
    {
        _server = server;
        _sandbox = sandbox;
        _pod = podName;
        _watches = [WatchAsync("configmaps"), WatchAsync("secrets")];
    }

    /// <summary>Failures to project a change (the watch goes on), for a test to show.</summary>
    public ConcurrentQueue<Exception> Errors { get; } = new();

    /// <summary>Volume updates written so far, as "mount directory ← resource/name @resourceVersion".</summary>
    public ConcurrentQueue<string> Updates { get; } = new();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_watches).WaitAsync(TimeSpan.FromSeconds(10));
        _stopping.Dispose();
    }

    private async Task WatchAsync(string resource)
    {
        await Task.Yield();
        await foreach (var (type, value) in _server.WatchAsync(resource, _sandbox.Namespace, _stopping.Token))
        {
            if (type == "DELETED")
            {
                continue; // the kubelet keeps the last content it projected
            }

            try
            {
                await ProjectAsync(resource, value);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Errors.Enqueue(ex);
            }
        }
    }

    private async Task ProjectAsync(string resource, JsonObject value)
    {
        var name = (string?)value["metadata"]?["name"];
        if (_server.Get("pods", _sandbox.Namespace, _pod) is not { } pod)
        {
            return;
        }

        foreach (var volume in pod["spec"]?["volumes"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            var source = resource == "configmaps" ? volume["configMap"] as JsonObject : volume["secret"] as JsonObject;
            if (source is null || (string?)source[resource == "configmaps" ? "name" : "secretName"] != name)
            {
                continue;
            }

            var payload = Payload(resource, source, value);
            foreach (var mountPath in MountPaths(pod, (string?)volume["name"]))
            {
                if (await _sandbox.PublishVolumeAsync(mountPath, payload, _stopping.Token))
                {
                    Updates.Enqueue($"{mountPath} ← {resource}/{name} @{(string?)value["metadata"]?["resourceVersion"]}");
                }
            }
        }
    }

    /// <summary>The directories the app containers mount the volume on whole (subPath mounts are left as they are).</summary>
    private IEnumerable<string> MountPaths(JsonObject pod, string? volume)
    {
        var volumes = _sandbox.VolumeDirectories;
        return (pod["spec"]?["containers"]?.AsArray().OfType<JsonObject>() ?? [])
            .SelectMany(c => c["volumeMounts"]?.AsArray().OfType<JsonObject>() ?? [])
            .Where(m => (string?)m["name"] == volume && m["subPath"] is null && m["subPathExpr"] is null)
            .Select(m => ((string?)m["mountPath"])?.TrimEnd('/') ?? "")
            .Where(volumes.Contains)
            .Distinct(StringComparer.Ordinal);
    }

    /// <summary>The files a volume shows of the object: its items' paths, or every key as a file of its name.</summary>
    private static Dictionary<string, byte[]> Payload(string resource, JsonObject source, JsonObject value)
    {
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, text) in value["data"] as JsonObject ?? [])
        {
            keys[key] = resource == "configmaps" ? Encoding.UTF8.GetBytes((string?)text ?? "") : Convert.FromBase64String((string?)text ?? "");
        }

        foreach (var (key, text) in resource == "configmaps" ? value["binaryData"] as JsonObject ?? [] : [])
        {
            keys[key] = Convert.FromBase64String((string?)text ?? "");
        }

        if (source["items"] is not JsonArray items)
        {
            return keys;
        }

        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var item in items.OfType<JsonObject>())
        {
            if (keys.TryGetValue((string?)item["key"] ?? "", out var content))
            {
                files[(string?)item["path"] ?? ""] = content;
            }
        }

        return files;
    }
}
