using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// <c>/openapi/v3</c> as far as this server goes: per group version, the paths of the served kinds with their
/// operations, each tagged with its group-version-kind and the query parameters the server honours
/// (<c>fieldValidation</c>, <c>fieldManager</c>, <c>force</c>, <c>dryRun</c>). kubectl reads it to learn that the
/// server validates fields itself (else it wants the whole schema to validate on its side); no type schemas are
/// published, so clients fall back to their built-in knowledge of the kinds (kubectl does for its patches).
/// </summary>
internal static class OpenApi
{
    public static JsonObject Root()
    {
        var paths = new JsonObject();
        foreach (var groupVersion in KubeApiServer.Resources.Values.Select(r => r.GroupVersion).Distinct())
        {
            var path = Prefix(groupVersion).TrimStart('/');
            paths[path] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash={Hash(Document(groupVersion))}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    /// <summary>The document of <paramref name="groupVersion"/> ("v1", "apps/v1"), or null when none is served.</summary>
    public static JsonObject? Document(string groupVersion)
    {
        var resources = KubeApiServer.Resources.Where(r => r.Value.GroupVersion == groupVersion).ToList();
        if (resources.Count == 0)
        {
            return null;
        }

        var group = groupVersion.Contains('/', StringComparison.Ordinal) ? groupVersion.Split('/')[0] : "";
        var version = groupVersion.Split('/')[^1];
        var paths = new JsonObject();
        foreach (var (resource, (_, kind)) in resources.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            JsonObject Operation(string action, params string[] parameters) => new()
            {
                ["operationId"] = $"{action}Namespaced{kind}",
                ["x-kubernetes-action"] = action,
                ["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = group, ["version"] = version, ["kind"] = kind },
                ["parameters"] = new JsonArray([.. parameters.Select(p => (JsonNode)new JsonObject
                {
                    ["name"] = p,
                    ["in"] = "query",
                    ["schema"] = new JsonObject { ["type"] = p == "force" ? "boolean" : "string", ["uniqueItems"] = true },
                })]),
                ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
            };

            var collection = $"{Prefix(groupVersion)}/namespaces/{{namespace}}/{resource}";
            paths[collection] = new JsonObject
            {
                ["get"] = Operation("list", "labelSelector", "fieldSelector", "watch", "resourceVersion", "timeoutSeconds"),
                ["post"] = Operation("post", "dryRun", "fieldManager", "fieldValidation"),
            };
            paths[collection + "/{name}"] = new JsonObject
            {
                ["get"] = Operation("get"),
                ["put"] = Operation("put", "dryRun", "fieldManager", "fieldValidation"),
                ["patch"] = Operation("patch", "dryRun", "fieldManager", "fieldValidation", "force"),
                ["delete"] = Operation("delete"),
            };
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject(),
        };
    }

    private static string Prefix(string groupVersion) => groupVersion.Contains('/', StringComparison.Ordinal) ? $"/apis/{groupVersion}" : $"/api/{groupVersion}";

    private static string Hash(JsonObject? document) =>
        Convert.ToHexString(SHA512.HashData(Encoding.UTF8.GetBytes(document?.ToJsonString() ?? "")));
}
