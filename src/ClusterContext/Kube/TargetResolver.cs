using System.Globalization;
using System.Text.Json;

namespace ClusterContext.Kube;

/// <summary>The pod and container a target resolved to.</summary>
/// <param name="Namespace">The pod's namespace.</param>
/// <param name="Pod">The pod's name.</param>
/// <param name="Container">The container the session runs alongside.</param>
/// <param name="Uid">The pod's uid, to notice a replaced pod of the same name.</param>
/// <param name="RunAs">The user the container runs as, when its or the pod's security context says so.</param>
/// <param name="ContainerPorts">The TCP <c>containerPort</c>s the container declares (for the incoming port mapping); null when unknown.</param>
internal sealed record ResolvedTarget(string Namespace, string Pod, string Container, string Uid, RunAs? RunAs = null, IReadOnlyList<int>? ContainerPorts = null);

/// <summary>The effective <c>runAsUser</c>/<c>runAsGroup</c>/<c>runAsNonRoot</c> of a container (its own over the pod's).</summary>
/// <param name="User">The user id, if set.</param>
/// <param name="Group">The group id, if set.</param>
/// <param name="NonRoot">Whether the kubelet must refuse to run it as root.</param>
internal sealed record RunAs(long? User, long? Group, bool NonRoot);

/// <summary>The target cannot be resolved to a running, ready pod; the message says what was found instead.</summary>
internal sealed class TargetResolutionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Resolves a <see cref="KubeTarget"/> to one running, ready pod and a container: a workload through its selector,
/// preferring (as kubectl does) the pod ready longest, then the one with fewest restarts, then the oldest; the
/// container named in the target, else the pod's <c>kubectl.kubernetes.io/default-container</c>, else its first.
/// </summary>
internal static class TargetResolver
{
    private const string DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container";

    /// <summary>Resolves <paramref name="target"/> in <paramref name="namespace"/>.</summary>
    public static async Task<ResolvedTarget> ResolveAsync(IKubeApi api, KubeTarget target, string @namespace, CancellationToken cancellationToken)
    {
        if (target.Kind == TargetKind.Pod)
        {
            using var pod = await GetAsync(api, $"/api/v1/namespaces/{@namespace}/pods/{target.Name}", target, @namespace, cancellationToken).ConfigureAwait(false);
            if (Unready(pod.RootElement) is { } why)
            {
                throw new TargetResolutionException($"{target} in namespace '{@namespace}' is not running and ready ({why}).");
            }

            return Choose(target, @namespace, pod.RootElement);
        }

        var path = target.Kind switch
        {
            TargetKind.Deployment => "apis/apps/v1/namespaces/{0}/deployments/{1}",
            TargetKind.StatefulSet => "apis/apps/v1/namespaces/{0}/statefulsets/{1}",
            TargetKind.ReplicaSet => "apis/apps/v1/namespaces/{0}/replicasets/{1}",
            TargetKind.DaemonSet => "apis/apps/v1/namespaces/{0}/daemonsets/{1}",
            _ => "apis/batch/v1/namespaces/{0}/jobs/{1}",
        };
        using var workload = await GetAsync(api, "/" + string.Format(CultureInfo.InvariantCulture, path, @namespace, target.Name), target, @namespace, cancellationToken).ConfigureAwait(false);
        var selector = Selector(workload.RootElement, target);
        using var pods = await api.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{@namespace}/pods?labelSelector={Uri.EscapeDataString(selector)}", null, null, cancellationToken).ConfigureAwait(false);
        var candidates = pods.RootElement.GetProperty("items").EnumerateArray().ToList();
        var ready = candidates.Where(p => Unready(p) is null)
            .OrderBy(p => ReadySince(p))
            .ThenBy(Restarts)
            .ThenBy(p => Created(p))
            .ToList();
        if (ready.Count == 0)
        {
            var found = candidates.Count == 0
                ? "no pods match its selector " + selector
                : string.Join("; ", candidates.Select(p => $"{Name(p)}: {Unready(p)}"));
            throw new TargetResolutionException($"{target} in namespace '{@namespace}' has no running, ready pod ({found}).");
        }

        return Choose(target, @namespace, ready[0]);
    }

    private static async Task<JsonDocument> GetAsync(IKubeApi api, string path, KubeTarget target, string @namespace, CancellationToken cancellationToken)
    {
        try
        {
            return await api.SendAsync(HttpMethod.Get, path, null, null, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeApiException ex) when (ex.StatusCode == 404)
        {
            throw new TargetResolutionException($"{target} was not found in namespace '{@namespace}' (context '{api.Endpoint.Context}'). Check the name with 'kubectl get {target.Kind.ToString().ToLowerInvariant()} -n {@namespace}', or set \"namespace\".", ex);
        }
    }

    private static ResolvedTarget Choose(KubeTarget target, string @namespace, JsonElement pod)
    {
        var containers = pod.GetProperty("spec").GetProperty("containers").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        var metadata = pod.GetProperty("metadata");
        var annotated = metadata.TryGetProperty("annotations", out var annotations) && annotations.TryGetProperty(DefaultContainerAnnotation, out var value)
            ? value.GetString()
            : null;
        var container = target.Container ?? (annotated is not null && containers.Contains(annotated) ? annotated : containers.FirstOrDefault());
        if (container is null || !containers.Contains(container))
        {
            throw new TargetResolutionException($"Pod '{Name(pod)}' has no container '{container}'; its containers are: {string.Join(", ", containers)}.");
        }

        var spec = pod.GetProperty("spec");
        var containerSpec = spec.GetProperty("containers").EnumerateArray().First(c => c.GetProperty("name").GetString() == container);
        return new ResolvedTarget(@namespace, Name(pod), container, metadata.TryGetProperty("uid", out var uid) ? uid.GetString() ?? "" : "",
            EffectiveRunAs(containerSpec, spec), TcpPorts(containerSpec));
    }

    private static List<int> TcpPorts(JsonElement container) =>
        container.TryGetProperty("ports", out var ports) && ports.ValueKind == JsonValueKind.Array
            ? [.. ports.EnumerateArray()
                .Where(p => !p.TryGetProperty("protocol", out var protocol) || protocol.GetString() is null or "TCP")
                .Select(p => p.TryGetProperty("containerPort", out var port) && port.TryGetInt32(out var number) ? number : 0)
                .Where(p => p is > 0 and < 65536)
                .Distinct()]
            : [];

    /// <summary>The container's security context wins over the pod's, field by field, as the kubelet applies them.</summary>
    private static RunAs? EffectiveRunAs(JsonElement container, JsonElement podSpec)
    {
        JsonElement? Field(string name)
        {
            foreach (var owner in new[] { container, podSpec })
            {
                if (owner.TryGetProperty("securityContext", out var context) && context.ValueKind == JsonValueKind.Object
                    && context.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
                {
                    return value;
                }
            }

            return null;
        }

        var user = Field("runAsUser")?.GetInt64();
        var group = Field("runAsGroup")?.GetInt64();
        var nonRoot = Field("runAsNonRoot")?.GetBoolean() ?? false;
        return user is null && group is null && !nonRoot ? null : new RunAs(user, group, nonRoot);
    }

    private static string Selector(JsonElement workload, KubeTarget target)
    {
        if (!workload.TryGetProperty("spec", out var spec) || !spec.TryGetProperty("selector", out var selector))
        {
            throw new TargetResolutionException($"{target} has no pod selector.");
        }

        var terms = new List<string>();
        if (selector.TryGetProperty("matchLabels", out var labels))
        {
            terms.AddRange(labels.EnumerateObject().Select(l => $"{l.Name}={l.Value.GetString()}"));
        }

        if (selector.TryGetProperty("matchExpressions", out var expressions))
        {
            foreach (var expression in expressions.EnumerateArray())
            {
                var key = expression.GetProperty("key").GetString();
                var values = expression.TryGetProperty("values", out var v) ? string.Join(',', v.EnumerateArray().Select(x => x.GetString())) : "";
                terms.Add(expression.GetProperty("operator").GetString() switch
                {
                    "In" => $"{key} in ({values})",
                    "NotIn" => $"{key} notin ({values})",
                    "Exists" => key!,
                    "DoesNotExist" => "!" + key,
                    var op => throw new TargetResolutionException($"{target}: selector operator '{op}' is not understood."),
                });
            }
        }

        return terms.Count > 0 ? string.Join(',', terms) : throw new TargetResolutionException($"{target} has an empty selector, which would match every pod.");
    }

    /// <summary>Why the pod cannot be used, or null when it is running, ready and not being deleted.</summary>
    private static string? Unready(JsonElement pod)
    {
        if (pod.GetProperty("metadata").TryGetProperty("deletionTimestamp", out var deleting) && deleting.ValueKind == JsonValueKind.String)
        {
            return "terminating";
        }

        var status = pod.TryGetProperty("status", out var s) ? s : default;
        var phase = status.ValueKind == JsonValueKind.Object && status.TryGetProperty("phase", out var p) ? p.GetString() : "Pending";
        var waiting = status.ValueKind == JsonValueKind.Object && status.TryGetProperty("containerStatuses", out var statuses)
            ? statuses.EnumerateArray()
                .Select(c => c.TryGetProperty("state", out var state) && state.TryGetProperty("waiting", out var w) && w.TryGetProperty("reason", out var r) ? r.GetString() : null)
                .FirstOrDefault(r => r is not null)
            : null;
        if (phase != "Running")
        {
            return waiting is null ? phase : $"{phase}, {waiting}";
        }

        return ReadySince(pod) == DateTimeOffset.MaxValue ? (waiting is null ? "not ready" : $"not ready, {waiting}") : null;
    }

    private static DateTimeOffset ReadySince(JsonElement pod)
    {
        if (pod.TryGetProperty("status", out var status) && status.TryGetProperty("conditions", out var conditions))
        {
            foreach (var condition in conditions.EnumerateArray())
            {
                if (condition.GetProperty("type").GetString() == "Ready" && condition.GetProperty("status").GetString() == "True")
                {
                    return condition.TryGetProperty("lastTransitionTime", out var time) && DateTimeOffset.TryParse(time.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
                        ? since
                        : DateTimeOffset.MinValue;
                }
            }
        }

        return DateTimeOffset.MaxValue;
    }

    private static int Restarts(JsonElement pod) =>
        pod.TryGetProperty("status", out var status) && status.TryGetProperty("containerStatuses", out var statuses)
            ? statuses.EnumerateArray().Sum(c => c.TryGetProperty("restartCount", out var n) ? n.GetInt32() : 0)
            : 0;

    private static DateTimeOffset Created(JsonElement pod) =>
        pod.GetProperty("metadata").TryGetProperty("creationTimestamp", out var created)
        && DateTimeOffset.TryParse(created.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : DateTimeOffset.MaxValue;

    private static string Name(JsonElement pod) => pod.GetProperty("metadata").GetProperty("name").GetString() ?? "";
}
