using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// What the API server does to an object on every write besides storing it, for the kinds served: unknown fields
/// (dropped; refused under <c>fieldValidation=Strict</c>, a warning under Warn), Secret <c>stringData</c> folded into
/// base64 <c>data</c> and type Opaque by default, key and immutability checks of ConfigMaps and Secrets, status kept
/// on a write to the main resource, and <c>metadata.generation</c> counting spec changes where the server keeps it.
/// </summary>
internal static partial class ObjectRules
{
    private static readonly HashSet<string> s_metadataFields =
    [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
    ];

    /// <summary>Kinds whose status is written through their status subresource only, and whose spec changes count in generation.</summary>
    private static readonly HashSet<string> s_withStatus = ["Pod", "Service", "Deployment", "StatefulSet", "ReplicaSet", "Job"];

    private static readonly HashSet<string> s_withGeneration = ["Deployment", "StatefulSet", "ReplicaSet", "Job"];

    /// <summary>
    /// Readies <paramref name="value"/> to replace <paramref name="old"/> (null: to be created). Returns the warnings to
    /// send; throws <see cref="PatchException"/> as the server refuses.
    /// </summary>
    public static List<string> Prepare(string groupVersion, string kind, JsonObject value, JsonObject? old, string fieldValidation)
    {
        var warnings = new List<string>();
        var unknown = DropUnknownFields(kind, value);
        if (unknown.Count > 0 && fieldValidation == "Strict")
        {
            throw PatchException.BadRequest($"{kind} in version \"{groupVersion}\" cannot be handled as a {kind}: strict decoding error: "
                + string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
        }

        if (fieldValidation != "Ignore")
        {
            warnings.AddRange(unknown.Select(u => $"unknown field \"{u}\""));
        }

        var name = (string?)value["metadata"]?["name"] ?? "";
        switch (kind)
        {
            case "ConfigMap":
                CheckKeys(kind, name, value, "data", binary: false);
                CheckKeys(kind, name, value, "binaryData", binary: true);
                CheckImmutable(kind, name, value, old, "data", "binaryData");
                break;
            case "Secret":
                FoldStringData(value);
                CheckKeys(kind, name, value, "data", binary: true);
                value["type"] ??= "Opaque";
                if (old is not null && (string?)old["type"] != (string?)value["type"])
                {
                    throw PatchException.InvalidField("Secret", name, "type", "FieldValueInvalid", $"Invalid value: \"{(string?)value["type"]}\": field is immutable");
                }

                CheckImmutable(kind, name, value, old, "data");
                break;
        }

        if (old is not null)
        {
            CheckImmutableSpec(kind, name, value, old);
        }

        if (old is not null && s_withStatus.Contains(kind))
        {
            value["status"] = old["status"]?.DeepClone();
        }

        if (s_withGeneration.Contains(kind))
        {
            var generation = old?["metadata"]?["generation"] is JsonValue counted ? long.Parse(counted.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : 0;
            value["metadata"]!["generation"] = old is null ? 1 : JsonNode.DeepEquals(old["spec"], value["spec"]) ? generation : generation + 1;
        }
        else
        {
            value["metadata"]!.AsObject().Remove("generation");
        }

        return warnings;
    }

    /// <summary>
    /// The spec fields a kind's update validation refuses to change: a pod's spec but for images, activeDeadlineSeconds,
    /// tolerations and terminationGracePeriodSeconds (its ephemeral containers change through their subresource only);
    /// a workload's selector; a job's template.
    /// </summary>
    private static void CheckImmutableSpec(string kind, string name, JsonObject value, JsonObject old)
    {
        switch (kind)
        {
            case "Pod":
                var allowed = (JsonObject?)old["spec"]?.DeepClone() ?? [];
                var wanted = value["spec"] as JsonObject ?? [];
                foreach (var field in new[] { "containers", "initContainers" })
                {
                    var oldList = allowed[field] as JsonArray ?? [];
                    var newList = wanted[field] as JsonArray ?? [];
                    for (var i = 0; i < Math.Min(oldList.Count, newList.Count); i++)
                    {
                        if (oldList[i] is JsonObject container && newList[i]?["image"] is { } image)
                        {
                            container["image"] = image.DeepClone();
                        }
                    }
                }

                foreach (var field in new[] { "activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds" })
                {
                    allowed[field] = wanted[field]?.DeepClone();
                    if (allowed[field] is null)
                    {
                        allowed.Remove(field);
                    }
                }

                if (!JsonNode.DeepEquals(allowed, wanted))
                {
                    throw PatchException.InvalidField("Pod", name, "spec", "FieldValueForbidden", $"Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)");
                }

                break;
            case "Deployment" or "StatefulSet" or "ReplicaSet" when !JsonNode.DeepEquals(old["spec"]?["selector"], value["spec"]?["selector"]):
                throw PatchException.InvalidField($"{kind}.apps", name, "spec.selector", "FieldValueInvalid", $"Invalid value: {value["spec"]?["selector"]?.ToJsonString() ?? "null"}: field is immutable");
            case "Job" when !JsonNode.DeepEquals(old["spec"]?["template"], value["spec"]?["template"]):
                throw PatchException.InvalidField("Job.batch", name, "spec.template", "FieldValueInvalid", $"Invalid value: {value["spec"]?["template"]?.ToJsonString() ?? "null"}: field is immutable");
        }
    }

    private static List<string> DropUnknownFields(string kind, JsonObject value)
    {
        HashSet<string> known = kind switch
        {
            "ConfigMap" => ["apiVersion", "kind", "metadata", "data", "binaryData", "immutable"],
            "Secret" => ["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"],
            "Role" => ["apiVersion", "kind", "metadata", "rules"],
            "RoleBinding" => ["apiVersion", "kind", "metadata", "subjects", "roleRef"],
            _ => ["apiVersion", "kind", "metadata", "spec", "status"],
        };
        var unknown = value.Select(p => p.Key).Where(k => !known.Contains(k)).ToList();
        foreach (var key in unknown)
        {
            value.Remove(key);
        }

        if (value["metadata"] is JsonObject metadata)
        {
            foreach (var key in metadata.Select(p => p.Key).Where(k => !s_metadataFields.Contains(k)).ToList())
            {
                metadata.Remove(key);
                unknown.Add("metadata." + key);
            }
        }

        return unknown;
    }

    /// <summary>stringData is write-only: its entries become data (base64), winning over data's, as the server converts them.</summary>
    private static void FoldStringData(JsonObject value)
    {
        if (value["stringData"] is not JsonObject strings)
        {
            value.Remove("stringData");
            return;
        }

        var data = value["data"] as JsonObject ?? [];
        foreach (var (key, text) in strings)
        {
            data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes((string?)text ?? ""));
        }

        value["data"] = data.DeepClone();
        value.Remove("stringData");
    }

    private static void CheckKeys(string kind, string name, JsonObject value, string field, bool binary)
    {
        if (value[field] is null)
        {
            value.Remove(field);
            return;
        }

        if (value[field] is not JsonObject map)
        {
            throw PatchException.BadRequest($"{kind} in version \"v1\" cannot be handled as a {kind}: json: cannot unmarshal into Go struct field {kind}.{field} of type map[string]{(binary ? "[]uint8" : "string")}");
        }

        foreach (var (key, entry) in map)
        {
            if (entry is not JsonValue text || text.GetValueKind() != System.Text.Json.JsonValueKind.String)
            {
                throw PatchException.BadRequest($"{kind} in version \"v1\" cannot be handled as a {kind}: json: cannot unmarshal {entry?.GetValueKind().ToString().ToLowerInvariant() ?? "null"} into Go struct field {kind}.{field} of type {(binary ? "[]uint8" : "string")}");
            }

            if (binary && !IsBase64((string)text!))
            {
                throw PatchException.BadRequest($"{kind} in version \"v1\" cannot be handled as a {kind}: illegal base64 data at input byte 0");
            }

            if (key.Length > 253 || !ConfigKey().IsMatch(key))
            {
                throw PatchException.InvalidField(kind, name, $"{field}[{key}]", "FieldValueInvalid", $"Invalid value: \"{key}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
            }

            if (kind == "ConfigMap" && field == "binaryData" && value["data"]?[key] is not null)
            {
                throw PatchException.InvalidField(kind, name, $"data[{key}]", "FieldValueInvalid", $"Invalid value: \"{key}\": duplicate of key present in binaryData");
            }
        }
    }

    private static void CheckImmutable(string kind, string name, JsonObject value, JsonObject? old, params string[] fields)
    {
        if ((bool?)old?["immutable"] != true)
        {
            return;
        }

        if ((bool?)value["immutable"] != true)
        {
            throw PatchException.InvalidField(kind, name, "immutable", "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set");
        }

        foreach (var field in fields.Where(f => !JsonNode.DeepEquals(old![f], value[f])))
        {
            throw PatchException.InvalidField(kind, name, field, "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set");
        }
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex ConfigKey();
}
