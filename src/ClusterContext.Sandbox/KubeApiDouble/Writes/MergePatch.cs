using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary><c>application/merge-patch+json</c> (RFC 7386): objects merge key by key, null removes, anything else replaces (lists whole).</summary>
internal static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject changes)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject map ? (JsonObject)map.DeepClone() : [];
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Apply(result[key], value);
            }
        }

        return result;
    }
}
