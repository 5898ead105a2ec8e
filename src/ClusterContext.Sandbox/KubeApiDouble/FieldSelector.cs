using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// The field selectors of the API (<c>metadata.name=x,status.phase!=Failed</c>): only the fields the real server
/// indexes for the resource; any other is refused as it refuses it ("field label not supported").
/// </summary>
public sealed class FieldSelector
{
    private static readonly string[] s_common = ["metadata.name", "metadata.namespace"];
    private static readonly string[] s_pod = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"];

    private readonly List<(string[] Path, string Value, bool Negated)> _terms;

    private FieldSelector(List<(string[], string, bool)> terms) => _terms = terms;

    /// <summary>Parses a selector for <paramref name="resource"/>; unsupported fields throw <see cref="FormatException"/> with the server's words.</summary>
    public static FieldSelector Parse(string text, string resource)
    {
        var terms = new List<(string[], string, bool)>();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var negated = raw.Contains("!=", StringComparison.Ordinal);
            var parts = negated ? raw.Split("!=", 2) : raw.Replace("==", "=", StringComparison.Ordinal).Split('=', 2);
            if (parts.Length != 2)
            {
                throw new FormatException($"invalid selector: '{text}'; can't understand '{raw}'");
            }

            var field = parts[0].Trim();
            if (!s_common.Contains(field) && !(resource == "pods" && s_pod.Contains(field)))
            {
                throw new FormatException($"field label not supported: {field}");
            }

            terms.Add((field.Split('.'), parts[1].Trim(), negated));
        }

        return new FieldSelector(terms);
    }

    /// <summary>Whether <paramref name="value"/> satisfies every term (a missing field is the empty string, as on the server).</summary>
    public bool Matches(JsonObject value) => _terms.All(term =>
    {
        JsonNode? node = value;
        foreach (var step in term.Path)
        {
            node = node?[step];
        }

        return ((string?)node ?? "") == term.Value != term.Negated;
    });
}
