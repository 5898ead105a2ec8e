using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// <c>application/strategic-merge-patch+json</c>, what kubectl sends for built-in kinds (<c>apply</c>, <c>edit</c>,
/// <c>patch</c>): a merge patch whose lists merge by their key (<see cref="PatchMeta"/>), with the directives
/// <c>$patch</c> (replace, delete, merge), <c>$retainKeys</c>, <c>$setElementOrder/</c> and <c>$deleteFromPrimitiveList/</c>.
/// </summary>
internal static class StrategicMergePatch
{
    public static JsonObject Apply(string kind, JsonObject original, JsonNode? patch)
    {
        if (patch is not JsonObject changes)
        {
            throw PatchException.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
        }

        return MergeMap(kind, (JsonObject)original.DeepClone(), changes, []) ?? [];
    }

    private static JsonObject? MergeMap(string kind, JsonObject target, JsonObject patch, List<string> fields)
    {
        switch ((string?)patch["$patch"])
        {
            case "replace":
                return (JsonObject)Clean(patch)!;
            case "delete":
                return null;
            case null or "merge":
                break;
            default:
                throw PatchException.BadRequest($"Unknown patch type: {(string?)patch["$patch"]} in map: {patch.ToJsonString()}");
        }

        var orders = new Dictionary<string, JsonArray>(StringComparer.Ordinal);
        foreach (var (key, value) in patch)
        {
            if (key is "$patch" or "$retainKeys")
            {
                continue;
            }

            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal))
            {
                orders[key["$setElementOrder/".Length..]] = value as JsonArray ?? [];
                continue;
            }

            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (target[field] is JsonArray list && value is JsonArray remove)
                {
                    foreach (var item in list.Where(i => remove.Any(r => JsonNode.DeepEquals(i, r))).ToList())
                    {
                        list.Remove(item);
                    }
                }

                continue;
            }

            fields.Add(key);
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject child && target[key] is JsonObject existing)
            {
                var merged = MergeMap(kind, existing, child, fields);
                if (merged is null)
                {
                    target.Remove(key);
                }
                else
                {
                    target[key] = merged == existing ? existing : merged;
                }
            }
            else if (value is JsonArray items && target[key] is JsonArray current && PatchMeta.MergeKey(kind, fields) is { } mergeKey)
            {
                MergeList(kind, current, items, mergeKey, fields);
            }
            else if (value is JsonArray values && target[key] is JsonArray set && PatchMeta.IsSet(fields))
            {
                foreach (var item in values.Where(v => !set.Any(s => JsonNode.DeepEquals(s, v))))
                {
                    set.Add(item?.DeepClone());
                }
            }
            else
            {
                target[key] = Clean(value);
            }

            fields.RemoveAt(fields.Count - 1);
        }

        foreach (var (field, order) in orders)
        {
            if (target[field] is JsonArray list)
            {
                Reorder(kind, list, order, [.. fields, field]);
            }
        }

        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(k => (string?)k).ToHashSet(StringComparer.Ordinal);
            foreach (var key in target.Select(p => p.Key).Where(k => !keep.Contains(k)).ToList())
            {
                target.Remove(key);
            }
        }

        return target;
    }

    private static void MergeList(string kind, JsonArray target, JsonArray patch, string mergeKey, List<string> fields)
    {
        if (patch.Any(i => (string?)i?["$patch"] == "replace"))
        {
            target.Clear();
            foreach (var item in patch.Where(i => (string?)i?["$patch"] != "replace"))
            {
                target.Add(Clean(item));
            }

            return;
        }

        foreach (var node in patch)
        {
            if (node is not JsonObject item || !item.TryGetPropertyValue(mergeKey, out var key))
            {
                throw PatchException.BadRequest($"map: {node?.ToJsonString()} does not contain declared merge key: {mergeKey}");
            }

            var existing = target.FirstOrDefault(t => JsonNode.DeepEquals(t?[mergeKey], key)) as JsonObject;
            if ((string?)item["$patch"] == "delete")
            {
                if (existing is not null)
                {
                    target.Remove(existing);
                }

                continue;
            }

            if (existing is null)
            {
                target.Add(Clean(item));
            }
            else
            {
                MergeMap(kind, existing, item, fields);
            }
        }
    }

    /// <summary>$setElementOrder: the items it names in its order, then the rest as they were.</summary>
    private static void Reorder(string kind, JsonArray list, JsonArray order, List<string> fields)
    {
        var mergeKey = PatchMeta.MergeKey(kind, fields);
        var items = list.ToList();
        var sorted = new List<JsonNode?>();
        foreach (var wanted in order)
        {
            var match = items.FirstOrDefault(i => mergeKey is null ? JsonNode.DeepEquals(i, wanted) : JsonNode.DeepEquals(i?[mergeKey], wanted?[mergeKey]));
            if (match is not null)
            {
                items.Remove(match);
                sorted.Add(match);
            }
        }

        sorted.AddRange(items);
        list.Clear();
        foreach (var item in sorted)
        {
            list.Add(item);
        }
    }

    /// <summary>A patch value stored as it is: its directives removed (a new map or list carries none into the object).</summary>
    private static JsonNode? Clean(JsonNode? value)
    {
        switch (value)
        {
            case JsonObject map:
                var result = new JsonObject();
                foreach (var (key, child) in map)
                {
                    if (!key.StartsWith('$'))
                    {
                        result[key] = Clean(child);
                    }
                }

                return result;
            case JsonArray list:
                return new JsonArray([.. list.Select(Clean)]);
            default:
                return value?.DeepClone();
        }
    }
}
