using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace ClusterContext.AspNetCore.Internal;

/// <summary>
/// A configuration section back in the shape of the JSON it came from, so that <c>clustercontext.json</c>'s reader
/// (its keys, checks and messages) reads the <c>ClusterContext</c> section too: children keyed 0..n-1 are an array,
/// every value is text.
/// </summary>
internal static class ConfigurationSectionJson
{
    public static JsonElement ToJson(IConfigurationSection section, IEnumerable<string> skip)
    {
        var root = new JsonObject();
        foreach (var child in section.GetChildren())
        {
            if (!skip.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                root[child.Key] = Node(child);
            }
        }

        using var document = JsonDocument.Parse(root.ToJsonString());
        return document.RootElement.Clone();
    }

    private static JsonNode? Node(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            return section.Value is null ? null : JsonValue.Create(section.Value);
        }

        if (IsArray(children))
        {
            var array = new JsonArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                array.Add(Node(child));
            }

            return array;
        }

        var obj = new JsonObject();
        foreach (var child in children)
        {
            obj[child.Key] = Node(child);
        }

        return obj;
    }

    private static bool IsArray(List<IConfigurationSection> children)
    {
        var indexes = new HashSet<int>();
        foreach (var child in children)
        {
            if (child.Key.Length == 0 || (child.Key.Length > 1 && child.Key[0] == '0')
                || !int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || !indexes.Add(index))
            {
                return false;
            }
        }

        return indexes.Count > 0 && indexes.Min() == 0 && indexes.Max() == indexes.Count - 1;
    }
}
