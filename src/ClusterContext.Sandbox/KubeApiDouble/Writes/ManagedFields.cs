using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// <c>metadata.managedFields</c> as the server keeps them: which manager set which field, by Update (create, PUT,
/// PATCH) or by Apply (server-side apply). An update takes the fields it changed from everyone else; an apply
/// conflicts with other managers' fields it would change (unless forced), and drops what its manager applied before
/// and no longer applies, where no one else holds it.
/// </summary>
internal static class ManagedFields
{
    private sealed record Entry(string Manager, string Operation, HashSet<string> Fields, JsonObject Node);

    /// <summary>Records an update by <paramref name="manager"/> from <paramref name="old"/> (null: a create) to <paramref name="updated"/>.</summary>
    public static void RecordUpdate(string kind, string apiVersion, JsonObject? old, JsonObject updated, string manager)
    {
        var entries = Read(old ?? updated);
        var before = old is null ? [] : FieldSet.Of(kind, old);
        var after = FieldSet.Of(kind, updated);
        var changed = after.Where(a => !before.TryGetValue(a.Key, out var was) || !JsonNode.DeepEquals(was, a.Value)).Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        var removed = before.Keys.Where(k => !after.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);
        if (old is not null && changed.Count == 0 && removed.Count == 0)
        {
            Write(updated, entries);
            return;
        }

        foreach (var entry in entries)
        {
            entry.Fields.ExceptWith(removed);
            if (entry.Manager != manager || entry.Operation != "Update")
            {
                entry.Fields.ExceptWith(changed);
            }
        }

        var own = entries.FirstOrDefault(e => e.Manager == manager && e.Operation == "Update");
        if (own is null)
        {
            own = new Entry(manager, "Update", new HashSet<string>(StringComparer.Ordinal), new JsonObject());
            entries.Add(own);
        }

        own.Fields.UnionWith(changed);
        Touch(own, apiVersion);
        Write(updated, entries);
    }

    /// <summary>
    /// Server-side apply of <paramref name="applied"/> by <paramref name="manager"/> onto <paramref name="live"/>
    /// (changed in place); throws a 409 naming each conflict unless <paramref name="force"/>.
    /// </summary>
    public static void Apply(string kind, string apiVersion, JsonObject live, JsonObject applied, string manager, bool force)
    {
        var entries = Read(live);
        var wanted = FieldSet.Of(kind, applied);
        var conflicts = new List<(string Manager, string Path)>();
        foreach (var (path, value) in wanted)
        {
            if (path.EndsWith('.'))
            {
                continue;
            }

            foreach (var entry in entries.Where(e => e.Manager != manager && e.Fields.Contains(path)))
            {
                if (!FieldSet.TryGet(live, path, out var current) || !JsonNode.DeepEquals(current, value))
                {
                    conflicts.Add((entry.Manager, path));
                }
            }
        }

        if (conflicts.Count > 0 && !force)
        {
            throw new ApplyConflictException(apiVersion, conflicts.Select(c => (c.Manager, FieldSet.Display(c.Path))).ToList());
        }

        foreach (var (owner, path) in conflicts)
        {
            entries.First(e => e.Manager == owner && e.Fields.Contains(path)).Fields.Remove(path);
        }

        var own = entries.FirstOrDefault(e => e.Manager == manager && e.Operation == "Apply");
        if (own is not null)
        {
            foreach (var path in own.Fields.Where(p => !wanted.ContainsKey(p)).OrderByDescending(p => p.Length))
            {
                if (!entries.Any(e => e != own && e.Fields.Contains(path)))
                {
                    FieldSet.Remove(live, path);
                }
            }
        }
        else
        {
            own = new Entry(manager, "Apply", new HashSet<string>(StringComparer.Ordinal), new JsonObject());
            entries.Add(own);
        }

        Merge(kind, live, applied, []);
        own.Fields.Clear();
        own.Fields.UnionWith(wanted.Keys);
        Touch(own, apiVersion);
        Write(live, entries);
    }

    /// <summary>An applied configuration merged into the live object: maps by key, keyed lists by item, other lists replaced.</summary>
    private static void Merge(string kind, JsonObject live, JsonObject applied, List<string> fields)
    {
        foreach (var (key, value) in applied)
        {
            if (fields.Count == 0 && key is "status" or "apiVersion" or "kind")
            {
                continue;
            }

            fields.Add(key);
            if (value is JsonObject map && live[key] is JsonObject existing)
            {
                Merge(kind, existing, map, fields);
            }
            else if (value is JsonArray items && live[key] is JsonArray current && PatchMeta.MergeKey(kind, fields) is { } mergeKey)
            {
                foreach (var item in items.OfType<JsonObject>())
                {
                    if (current.OfType<JsonObject>().FirstOrDefault(c => JsonNode.DeepEquals(c[mergeKey], item[mergeKey])) is { } match)
                    {
                        Merge(kind, match, item, fields);
                    }
                    else
                    {
                        current.Add(item.DeepClone());
                    }
                }
            }
            else if (value is JsonArray values && live[key] is JsonArray set && PatchMeta.IsSet(fields))
            {
                foreach (var item in values.Where(v => !set.Any(s => JsonNode.DeepEquals(s, v))))
                {
                    set.Add(item?.DeepClone());
                }
            }
            else
            {
                live[key] = value?.DeepClone();
            }

            fields.RemoveAt(fields.Count - 1);
        }
    }

    private static List<Entry> Read(JsonObject value) =>
        (value["metadata"]?["managedFields"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(e => new Entry((string?)e["manager"] ?? "", (string?)e["operation"] ?? "Update", FieldSet.FromFieldsV1(e["fieldsV1"] as JsonObject), (JsonObject)e.DeepClone()))
            .ToList();

    private static void Touch(Entry entry, string apiVersion)
    {
        entry.Node["manager"] = entry.Manager;
        entry.Node["operation"] = entry.Operation;
        entry.Node["apiVersion"] = apiVersion;
        entry.Node["time"] = ContainerStates.Now();
    }

    private static void Write(JsonObject value, List<Entry> entries)
    {
        var list = new JsonArray();
        foreach (var entry in entries.Where(e => e.Fields.Count > 0))
        {
            var node = (JsonObject)entry.Node.DeepClone();
            node["fieldsType"] = "FieldsV1";
            node["fieldsV1"] = FieldSet.ToFieldsV1(entry.Fields);
            list.Add(node);
        }

        var metadata = value["metadata"]!.AsObject();
        if (list.Count == 0)
        {
            metadata.Remove("managedFields");
        }
        else
        {
            metadata["managedFields"] = list;
        }
    }
}
