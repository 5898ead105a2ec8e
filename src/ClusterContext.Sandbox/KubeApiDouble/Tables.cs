using System.Globalization;
using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// Server-side printing: the <c>meta.k8s.io/v1</c> Table kubectl asks for (<c>Accept: …;as=Table</c>) to print
/// its columns, with the columns the real server prints for each kind.
/// </summary>
internal static class Tables
{
    public static bool Wanted(string accept) => accept.Contains("as=Table", StringComparison.Ordinal);

    public static JsonObject Of(string resource, IEnumerable<JsonObject> objects, string resourceVersion)
    {
        var columns = Columns(resource);
        var rows = new JsonArray();
        foreach (var value in objects)
        {
            var cells = new JsonArray();
            foreach (var cell in Cells(resource, value))
            {
                cells.Add(cell);
            }

            rows.Add(new JsonObject
            {
                ["cells"] = cells,
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = value["metadata"]!.DeepClone(),
                },
            });
        }

        var definitions = new JsonArray();
        foreach (var (name, type) in columns)
        {
            definitions.Add(new JsonObject
            {
                ["name"] = name,
                ["type"] = type,
                ["format"] = name == "Name" ? "name" : "",
                ["description"] = name,
                ["priority"] = name is "IP" or "Node" ? 1 : 0, // shown by "-o wide" only
            });
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
            ["columnDefinitions"] = definitions,
            ["rows"] = rows,
        };
    }

    private static (string Name, string Type)[] Columns(string resource) => resource switch
    {
        "pods" => [("Name", "string"), ("Ready", "string"), ("Status", "string"), ("Restarts", "string"), ("Age", "string"), ("IP", "string"), ("Node", "string")],
        "deployments" => [("Name", "string"), ("Ready", "string"), ("Up-to-date", "integer"), ("Available", "integer"), ("Age", "string")],
        "replicasets" => [("Name", "string"), ("Desired", "integer"), ("Current", "integer"), ("Ready", "integer"), ("Age", "string")],
        "services" => [("Name", "string"), ("Type", "string"), ("Cluster-IP", "string"), ("External-IP", "string"), ("Port(s)", "string"), ("Age", "string")],
        "configmaps" => [("Name", "string"), ("Data", "integer"), ("Age", "string")],
        "secrets" => [("Name", "string"), ("Type", "string"), ("Data", "string"), ("Age", "string")],
        _ => [("Name", "string"), ("Age", "string")],
    };

    private static IEnumerable<JsonNode?> Cells(string resource, JsonObject value)
    {
        var name = (string?)value["metadata"]?["name"];
        var age = Age((string?)value["metadata"]?["creationTimestamp"]);
        var status = value["status"];
        switch (resource)
        {
            case "pods":
                var containers = value["spec"]?["containers"]?.AsArray().Count ?? 0;
                var statuses = status?["containerStatuses"]?.AsArray() ?? [];
                var ready = statuses.Count(s => (bool?)s?["ready"] == true);
                var restarts = statuses.Sum(s => (int?)s?["restartCount"] ?? 0);
                return [name, $"{ready}/{containers}", (string?)status?["phase"] ?? "Pending", restarts.ToString(CultureInfo.InvariantCulture), age,
                    (string?)status?["podIP"] ?? "<none>", (string?)value["spec"]?["nodeName"] ?? "<none>"];
            case "deployments":
                var desired = (int?)value["spec"]?["replicas"] ?? 1;
                return [name, $"{(int?)status?["readyReplicas"] ?? 0}/{desired}", (int?)status?["updatedReplicas"] ?? 0, (int?)status?["availableReplicas"] ?? 0, age];
            case "replicasets":
                return [name, (int?)value["spec"]?["replicas"] ?? 1, (int?)status?["replicas"] ?? 0, (int?)status?["readyReplicas"] ?? 0, age];
            case "services":
                var ports = string.Join(",", (value["spec"]?["ports"]?.AsArray() ?? []).Select(p => $"{(int?)p?["port"]}/{(string?)p?["protocol"] ?? "TCP"}"));
                return [name, (string?)value["spec"]?["type"] ?? "ClusterIP", (string?)value["spec"]?["clusterIP"] ?? "<none>", "<none>", ports.Length == 0 ? "<none>" : ports, age];
            case "configmaps":
                return [name, (value["data"]?.AsObject().Count ?? 0) + (value["binaryData"]?.AsObject().Count ?? 0), age];
            case "secrets":
                return [name, (string?)value["type"] ?? "Opaque", (value["data"]?.AsObject().Count ?? 0).ToString(CultureInfo.InvariantCulture), age];
            default:
                return [name, age];
        }
    }

    private static string Age(string? created)
    {
        if (!DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return "<unknown>";
        }

        var age = DateTimeOffset.UtcNow - time;
        return age.TotalMinutes < 2 ? $"{Math.Max(0, (int)age.TotalSeconds)}s"
            : age.TotalHours < 2 ? $"{(int)age.TotalMinutes}m"
            : age.TotalDays < 2 ? $"{(int)age.TotalHours}h"
            : $"{(int)age.TotalDays}d";
    }
}
