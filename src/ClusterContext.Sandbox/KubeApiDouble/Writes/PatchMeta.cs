namespace ClusterContext.Testing.Kube;

/// <summary>
/// How the API's types merge their lists (the Go types' <c>patchStrategy</c>/<c>patchMergeKey</c> tags, which are
/// also server-side apply's map keys): a list of objects keyed by one field merges item by item, a list of strings
/// with strategy merge is a set, any other list is atomic (replaced whole). Covers the kinds this server serves.
/// </summary>
internal static class PatchMeta
{
    /// <summary>The merge key of the list at <paramref name="fields"/> (field names from the root, no indices), or null.</summary>
    public static string? MergeKey(string kind, IReadOnlyList<string> fields)
    {
        if (fields.Count == 0)
        {
            return null;
        }

        var parent = fields.Count > 1 ? fields[^2] : "";
        return fields[^1] switch
        {
            "containers" or "initContainers" or "ephemeralContainers" => "name",
            "env" or "volumes" or "imagePullSecrets" or "resourceClaims" => "name",
            "volumeMounts" => "mountPath",
            "volumeDevices" => "devicePath",
            "hostAliases" => "ip",
            "podIPs" or "hostIPs" => "ip",
            "ownerReferences" => "uid",
            "conditions" when parent == "status" => "type",
            "topologySpreadConstraints" => "topologyKey",
            "ports" when kind == "Service" && fields is ["spec", "ports"] => "port",
            "ports" when parent is "containers" or "initContainers" or "ephemeralContainers" => "containerPort",
            _ => null,
        };
    }

    /// <summary>Whether the list at <paramref name="fields"/> is a set of strings merged by value (metadata.finalizers).</summary>
    public static bool IsSet(IReadOnlyList<string> fields) => fields is ["metadata", "finalizers"];
}
