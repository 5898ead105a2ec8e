using System.Globalization;
using System.Text.Json;
using ClusterContext.Kube;

namespace ClusterContext.Cli.Targets;

/// <summary>Lists a namespace's targets through the project's own Kubernetes client, the one sessions use.</summary>
internal static class TargetLister
{
    private static readonly (string Kind, string Path)[] Workloads =
    [
        ("deployment", "/apis/apps/v1/namespaces/{0}/deployments"),
        ("statefulset", "/apis/apps/v1/namespaces/{0}/statefulsets"),
        ("daemonset", "/apis/apps/v1/namespaces/{0}/daemonsets"),
        ("replicaset", "/apis/apps/v1/namespaces/{0}/replicasets"),
        ("job", "/apis/batch/v1/namespaces/{0}/jobs"),
        ("pod", "/api/v1/namespaces/{0}/pods"),
    ];

    public static async Task<TargetList> ListAsync(string? context, string? @namespace, CancellationToken cancellationToken)
    {
        var endpoint = KubeConfigLoader.Load(context, @namespace);
        using var api = new KubeApiClient(endpoint);
        var targets = new List<TargetEntry>();
        var warnings = new List<string>();
        foreach (var (kind, path) in Workloads)
        {
            JsonDocument list;
            try
            {
                list = await api.SendAsync(HttpMethod.Get, string.Format(CultureInfo.InvariantCulture, path, endpoint.Namespace), null, null, cancellationToken).ConfigureAwait(false);
            }
            catch (KubeApiException ex) when (ex.StatusCode == 404)
            {
                // This cluster does not serve the kind.
                continue;
            }
            catch (KubeApiException ex) when (ex.StatusCode == 403)
            {
                warnings.Add($"{kind}s: {ex.Message}");
                continue;
            }

            using (list)
            {
                foreach (var item in list.RootElement.GetProperty("items").EnumerateArray())
                {
                    // A replicaset a deployment owns is reached through the deployment.
                    if (kind == "replicaset" && OwnedBy(item, "Deployment"))
                    {
                        continue;
                    }

                    targets.Add(Entry(kind, item));
                }
            }
        }

        return new TargetList(endpoint.Context, endpoint.Namespace, targets, warnings);
    }

    private static TargetEntry Entry(string kind, JsonElement item)
    {
        var metadata = item.GetProperty("metadata");
        var name = metadata.GetProperty("name").GetString()!;
        var spec = item.GetProperty("spec");
        var podSpec = kind == "pod" ? spec : spec.TryGetProperty("template", out var template) && template.TryGetProperty("spec", out var s) ? s : default;
        var containers = podSpec.ValueKind == JsonValueKind.Object && podSpec.TryGetProperty("containers", out var c)
            ? c.EnumerateArray().Select(Container).ToList()
            : [];
        return new TargetEntry($"{kind}/{name}", kind, name, metadata.TryGetProperty("namespace", out var ns) ? ns.GetString()! : "", Ready(kind, item, containers.Count), containers);
    }

    private static ContainerEntry Container(JsonElement container) => new(
        container.GetProperty("name").GetString()!,
        container.TryGetProperty("image", out var image) ? image.GetString() : null,
        container.TryGetProperty("ports", out var ports)
            ? [.. ports.EnumerateArray().Select(p => new PortEntry(
                p.GetProperty("containerPort").GetInt32(),
                p.TryGetProperty("name", out var n) ? n.GetString() : null,
                p.TryGetProperty("protocol", out var protocol) ? protocol.GetString() ?? "TCP" : "TCP"))]
            : []);

    private static string Ready(string kind, JsonElement item, int containers)
    {
        var status = item.TryGetProperty("status", out var s) ? s : default;
        int Number(string name) => status.ValueKind == JsonValueKind.Object && status.TryGetProperty(name, out var v) && v.TryGetInt32(out var n) ? n : 0;
        switch (kind)
        {
            case "pod":
                var ready = status.ValueKind == JsonValueKind.Object && status.TryGetProperty("containerStatuses", out var statuses)
                    ? statuses.EnumerateArray().Count(x => x.TryGetProperty("ready", out var r) && r.ValueKind == JsonValueKind.True)
                    : 0;
                return string.Create(CultureInfo.InvariantCulture, $"{ready}/{containers}");
            case "daemonset":
                return string.Create(CultureInfo.InvariantCulture, $"{Number("numberReady")}/{Number("desiredNumberScheduled")}");
            case "job":
                return string.Create(CultureInfo.InvariantCulture, $"{Number("ready")}/{Number("active")}");
            default:
                var desired = item.GetProperty("spec").TryGetProperty("replicas", out var replicas) && replicas.TryGetInt32(out var d) ? d : 1;
                return string.Create(CultureInfo.InvariantCulture, $"{Number("readyReplicas")}/{desired}");
        }
    }

    private static bool OwnedBy(JsonElement item, string kind) =>
        item.GetProperty("metadata").TryGetProperty("ownerReferences", out var owners)
        && owners.EnumerateArray().Any(o => o.TryGetProperty("kind", out var k) && k.GetString() == kind);
}
