using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>A server-side apply that would change fields other managers own: 409, each conflict a cause, as the server words it.</summary>
internal sealed class ApplyConflictException(string apiVersion, IReadOnlyList<(string Manager, string Field)> conflicts)
    : Exception(Describe(apiVersion, conflicts))
{
    public JsonArray Causes { get; } = new([.. conflicts.Select(c => (JsonNode)new JsonObject
    {
        ["type"] = "FieldManagerConflict",
        ["message"] = $"conflict with \"{c.Manager}\" using {apiVersion}",
        ["field"] = c.Field,
    })]);

    private static string Describe(string apiVersion, IReadOnlyList<(string Manager, string Field)> conflicts) =>
        conflicts.Count == 1
            ? $"Apply failed with 1 conflict: conflict with \"{conflicts[0].Manager}\" using {apiVersion}: {conflicts[0].Field}"
            : $"Apply failed with {conflicts.Count} conflicts: " + string.Join("\n", conflicts.Select(c => $"conflict with \"{c.Manager}\" using {apiVersion}: {c.Field}"));
}
