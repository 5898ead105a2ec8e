using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// The fields an object sets, as server-side apply tracks them in <c>managedFields</c> (<c>FieldsV1</c>): a path per
/// leaf, <c>f:name</c> for a field, <c>k:{"name":"app"}</c> for an item of a keyed list (with <c>.</c> for the item
/// itself), <c>v:"x"</c> for a member of a set; atomic lists and empty maps are leaves.
/// </summary>
internal static class FieldSet
{
    private const char Separator = '\u001f';

    /// <summary>Paths and values of the fields <paramref name="value"/> sets (identity, server-set metadata and status left out).</summary>
    public static Dictionary<string, JsonNode?> Of(string kind, JsonObject value)
    {
        var leaves = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, child) in value)
        {
            if (key is "apiVersion" or "kind" or "status")
            {
                continue;
            }

            if (key == "metadata" && child is JsonObject metadata)
            {
                foreach (var (field, fieldValue) in metadata)
                {
                    if (field is "labels" or "annotations" or "finalizers" or "ownerReferences")
                    {
                        Walk(kind, fieldValue, ["f:metadata", "f:" + field], ["metadata", field], leaves);
                    }
                }

                continue;
            }

            Walk(kind, child, ["f:" + key], [key], leaves);
        }

        return leaves;
    }

    private static void Walk(string kind, JsonNode? node, List<string> path, List<string> fields, Dictionary<string, JsonNode?> leaves)
    {
        switch (node)
        {
            case JsonObject map when map.Count > 0:
                foreach (var (key, child) in map)
                {
                    path.Add("f:" + key);
                    fields.Add(key);
                    Walk(kind, child, path, fields, leaves);
                    path.RemoveAt(path.Count - 1);
                    fields.RemoveAt(fields.Count - 1);
                }

                break;
            case JsonArray list when PatchMeta.MergeKey(kind, fields) is { } mergeKey:
                foreach (var item in list.OfType<JsonObject>())
                {
                    path.Add("k:" + new JsonObject { [mergeKey] = item[mergeKey]?.DeepClone() }.ToJsonString());
                    leaves[string.Join(Separator, [.. path, "."])] = null;
                    foreach (var (key, child) in item)
                    {
                        path.Add("f:" + key);
                        fields.Add(key);
                        Walk(kind, child, path, fields, leaves);
                        path.RemoveAt(path.Count - 1);
                        fields.RemoveAt(fields.Count - 1);
                    }

                    path.RemoveAt(path.Count - 1);
                }

                break;
            case JsonArray set when PatchMeta.IsSet(fields):
                foreach (var item in set)
                {
                    leaves[string.Join(Separator, [.. path, "v:" + (item?.ToJsonString() ?? "null")])] = item?.DeepClone();
                }

                break;
            default:
                leaves[string.Join(Separator, path)] = node?.DeepClone();
                break;
        }
    }

    /// <summary>The value at <paramref name="path"/> in <paramref name="value"/>; false when it is not there.</summary>
    public static bool TryGet(JsonObject value, string path, out JsonNode? found)
    {
        JsonNode? current = value;
        found = null;
        foreach (var segment in path.Split(Separator))
        {
            switch (segment[0])
            {
                case 'f' when current is JsonObject map && map.TryGetPropertyValue(segment[2..], out var child):
                    current = child;
                    break;
                case 'k' when current is JsonArray list && Item(list, segment) is { } item:
                    current = item;
                    break;
                case 'v' when current is JsonArray set && set.FirstOrDefault(i => (i?.ToJsonString() ?? "null") == segment[2..]) is var member && member is not null:
                    current = member;
                    break;
                case '.':
                    return true; // the keyed item is there
                default:
                    return false;
            }
        }

        found = current;
        return true;
    }

    /// <summary>Removes the field at <paramref name="path"/> (a whole item for <c>…/.</c>), and maps it leaves empty.</summary>
    public static void Remove(JsonObject value, string path)
    {
        var segments = path.Split(Separator);
        if (segments[^1] == ".")
        {
            segments = segments[..^1];
        }

        var parents = new List<JsonNode>();
        JsonNode? current = value;
        foreach (var segment in segments[..^1])
        {
            parents.Add(current!);
            current = segment[0] switch
            {
                'f' => (current as JsonObject)?[segment[2..]],
                'k' => current is JsonArray list ? Item(list, segment) : null,
                _ => null,
            };
            if (current is null)
            {
                return;
            }
        }

        var last = segments[^1];
        switch (current)
        {
            case JsonObject map when last[0] == 'f':
                map.Remove(last[2..]);
                break;
            case JsonArray list when last[0] == 'k' && Item(list, last) is { } item:
                list.Remove(item);
                break;
            case JsonArray set when last[0] == 'v' && set.FirstOrDefault(i => (i?.ToJsonString() ?? "null") == last[2..]) is { } member:
                set.Remove(member);
                break;
        }

        // Maps emptied by the removal go too, as the fields that made them are gone (the root's own fields stay).
        for (var i = parents.Count - 1; i >= 1; i--)
        {
            if (current is JsonObject { Count: 0 } empty && parents[i] is JsonObject owner)
            {
                owner.Remove(owner.First(p => p.Value == empty).Key);
            }

            current = parents[i];
        }
    }

    /// <summary>Paths as a FieldsV1 tree: <c>{"f:data":{"f:key":{}}}</c>.</summary>
    public static JsonObject ToFieldsV1(IEnumerable<string> paths)
    {
        var root = new JsonObject();
        foreach (var path in paths.Order(StringComparer.Ordinal))
        {
            var current = root;
            foreach (var segment in path.Split(Separator))
            {
                if (current[segment] is not JsonObject next)
                {
                    next = [];
                    current[segment] = next;
                }

                current = next;
            }
        }

        return root;
    }

    /// <summary>A FieldsV1 tree as paths (its leaves).</summary>
    public static HashSet<string> FromFieldsV1(JsonObject? tree)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        void Walk(JsonObject node, string prefix)
        {
            foreach (var (segment, child) in node)
            {
                var path = prefix.Length == 0 ? segment : prefix + Separator + segment;
                if (child is JsonObject { Count: > 0 } inner)
                {
                    Walk(inner, path);
                }
                else
                {
                    paths.Add(path);
                }
            }
        }

        if (tree is not null)
        {
            Walk(tree, "");
        }

        return paths;
    }

    /// <summary>A path as the server names it in a conflict: <c>.data.key</c>, <c>.spec.containers[name="app"].image</c>.</summary>
    public static string Display(string path) => string.Concat(path.Split(Separator).Where(s => s != ".").Select(s => s[0] switch
    {
        'f' => "." + s[2..],
        'k' => "[" + string.Join(",", JsonNode.Parse(s[2..])!.AsObject().Select(p => $"{p.Key}={p.Value?.ToJsonString()}")) + "]",
        _ => "[=" + s[2..] + "]",
    }));

    private static JsonObject? Item(JsonArray list, string segment)
    {
        var key = JsonNode.Parse(segment[2..])!.AsObject().Single();
        return list.OfType<JsonObject>().FirstOrDefault(i => JsonNode.DeepEquals(i[key.Key], key.Value));
    }
}
