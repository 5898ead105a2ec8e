using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// <c>application/json-patch+json</c> (RFC 6902): add, remove, replace, move, copy and test, applied in order to a
/// copy of the object; a patch that is not a list of operations is a 400, an operation that cannot apply a 422, as the
/// API server answers.
/// </summary>
internal static class JsonPatch
{
    public static JsonNode? Apply(JsonNode document, JsonNode? patch)
    {
        if (patch is not JsonArray operations)
        {
            throw PatchException.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        JsonNode? result = document.DeepClone();
        foreach (var node in operations)
        {
            if (node is not JsonObject operation || (string?)operation["op"] is not { } op || (string?)operation["path"] is not { } path)
            {
                throw PatchException.BadRequest("Unexpected kind: unknown");
            }

            switch (op)
            {
                case "add":
                    result = Add(result, path, Value(operation));
                    break;
                case "remove":
                    result = Remove(result, path, out _);
                    break;
                case "replace":
                    result = Remove(result, path, out _, $"replace operation does not apply: doc is missing key: {path}");
                    result = Add(result, path, Value(operation));
                    break;
                case "move":
                    var from = From(operation);
                    result = Remove(result, from, out var moved);
                    result = Add(result, path, moved);
                    break;
                case "copy":
                    result = Add(result, path, Resolve(result, From(operation))?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(result, path), Value(operation)))
                    {
                        throw PatchException.NotApplicable($"testing value {path} failed: test failed");
                    }

                    break;
                default:
                    throw PatchException.NotApplicable($"Unexpected kind: {op}");
            }
        }

        return result;
    }

    private static JsonNode? Value(JsonObject operation) =>
        operation.TryGetPropertyValue("value", out var value) ? value?.DeepClone() : throw PatchException.NotApplicable("missing value");

    private static string From(JsonObject operation) => (string?)operation["from"] ?? throw PatchException.NotApplicable("missing from");

    private static string[] Tokens(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        if (path[0] != '/')
        {
            throw PatchException.NotApplicable($"doc is missing path: \"{path}\": missing value");
        }

        return [.. path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    private static JsonNode? Resolve(JsonNode? document, string path)
    {
        var current = document;
        foreach (var token in Tokens(path))
        {
            current = current switch
            {
                JsonObject map when map.TryGetPropertyValue(token, out var child) => child,
                JsonArray list when int.TryParse(token, out var index) && index >= 0 && index < list.Count => list[index],
                _ => throw PatchException.NotApplicable($"Unable to get nonexistent key: {token}: missing value"),
            };
        }

        return current;
    }

    private static JsonNode? Add(JsonNode? document, string path, JsonNode? value)
    {
        var tokens = Tokens(path);
        if (tokens.Length == 0)
        {
            return value;
        }

        var parent = Resolve(document, string.Concat(tokens[..^1].Select(t => "/" + Escape(t))));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject map:
                map[last] = value;
                break;
            case JsonArray list when last == "-":
                list.Add(value);
                break;
            case JsonArray list when int.TryParse(last, out var index) && index >= 0 && index <= list.Count:
                list.Insert(index, value);
                break;
            default:
                throw PatchException.NotApplicable($"add operation does not apply: doc is missing path: \"{path}\": missing value");
        }

        return document;
    }

    private static JsonNode? Remove(JsonNode? document, string path, out JsonNode? removed, string? missing = null)
    {
        var tokens = Tokens(path);
        if (tokens.Length == 0)
        {
            throw PatchException.NotApplicable("Unable to remove the root of the document");
        }

        var parent = Resolve(document, string.Concat(tokens[..^1].Select(t => "/" + Escape(t))));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject map when map.TryGetPropertyValue(last, out removed):
                map.Remove(last);
                return document;
            case JsonArray list when int.TryParse(last, out var index) && index >= 0 && index < list.Count:
                removed = list[index];
                list.RemoveAt(index);
                return document;
            default:
                throw PatchException.NotApplicable(missing ?? $"Unable to remove nonexistent key: {last}: missing value");
        }
    }

    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>Reads a request body as JSON; what is not JSON is a 400, with the decoder's words.</summary>
    public static JsonNode? Parse(string body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            throw PatchException.BadRequest($"error decoding patch: {ex.Message}");
        }
    }
}
