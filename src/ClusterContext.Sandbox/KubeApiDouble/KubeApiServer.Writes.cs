using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube;

public sealed partial class KubeApiServer
{
    private const string JsonPatchType = "application/json-patch+json";
    private const string MergePatchType = "application/merge-patch+json";
    private const string StrategicMergePatchType = "application/strategic-merge-patch+json";
    private const string ApplyPatchType = "application/apply-patch+yaml";

    /// <summary>
    /// PUT (update) and PATCH of an object, as the server does them: a resourceVersion in the result that is not the
    /// stored one is a 409 Conflict; the result goes through <see cref="ObjectRules"/>, the field managers are
    /// recorded, a write that changes nothing keeps the resourceVersion (no event), and <c>dryRun</c> stores nothing.
    /// </summary>
    private async Task WriteObjectAsync(HttpContext context, string resource, string @namespace, string name)
    {
        string body;
        try
        {
            body = await ReadBodyAsync(context, resource).ConfigureAwait(false);
        }
        catch (PatchException ex)
        {
            await WriteRefusalAsync(context, ex, name, resource).ConfigureAwait(false);
            return;
        }

        var query = context.Request.Query;
        var contentType = context.Request.ContentType?.Split(';')[0].Trim() ?? "";
        var manager = query["fieldManager"].ToString() is { Length: > 0 } given ? given : context.Request.Headers.UserAgent.ToString().Split('/')[0];
        var dryRun = query["dryRun"].Count > 0;
        var force = IsTrue(query["force"].ToString());
        var (groupVersion, kind) = Resources[resource];
        try
        {
            JsonObject result;
            bool created;
            List<string> warnings;
            lock (_objects)
            {
                var stored = Get(resource, @namespace, name);
                JsonObject updated;
                if (context.Request.Method == "PUT")
                {
                    updated = JsonPatch.Parse(body) as JsonObject ?? throw PatchException.BadRequest($"{kind} in version \"{groupVersion}\" cannot be handled as a {kind}: the body is not an object");
                    CheckIdentity(updated, resource, @namespace, name);
                    if (stored is null)
                    {
                        throw new PatchException(404, "NotFound", $"{resource} \"{name}\" not found");
                    }
                }
                else
                {
                    if (force && contentType != ApplyPatchType)
                    {
                        throw PatchException.Invalid("PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch");
                    }

                    updated = contentType switch
                    {
                        JsonPatchType => JsonPatch.Apply(Existing(stored, resource, name), JsonPatch.Parse(body)) as JsonObject
                            ?? throw PatchException.Invalid("the patch's result is not an object"),
                        MergePatchType => MergePatch.Apply(Existing(stored, resource, name), JsonPatch.Parse(body)) as JsonObject
                            ?? throw PatchException.Invalid("the patch's result is not an object"),
                        StrategicMergePatchType => StrategicMergePatch.Apply(kind, Existing(stored, resource, name), JsonPatch.Parse(body)),
                        ApplyPatchType => ServerSideApply(stored, body, resource, @namespace, name, manager, force),
                        _ => throw new PatchException(415, "UnsupportedMediaType",
                            $"the body of the request was in an unknown format - accepted media types include: {JsonPatchType}, {MergePatchType}, {ApplyPatchType}, {StrategicMergePatchType}"),
                    };
                    CheckIdentity(updated, resource, @namespace, name);
                }

                if (stored is not null && (string?)updated["metadata"]?["resourceVersion"] is { Length: > 0 } version && version != (string?)stored["metadata"]!["resourceVersion"])
                {
                    throw new PatchException(409, "Conflict",
                        $"Operation cannot be fulfilled on {resource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
                }

                var metadata = updated["metadata"]!.AsObject();
                metadata["namespace"] = @namespace;
                metadata["uid"] = (string?)stored?["metadata"]?["uid"] ?? Guid.NewGuid().ToString();
                metadata["creationTimestamp"] = (string?)stored?["metadata"]?["creationTimestamp"] ?? ContainerStates.Now();
                warnings = ObjectRules.Prepare(groupVersion, kind, updated, stored, query["fieldValidation"].ToString());
                if (contentType != ApplyPatchType)
                {
                    ManagedFields.RecordUpdate(kind, groupVersion, stored, updated, manager);
                }

                created = stored is null;
                if (stored is not null && Unchanged(stored, updated))
                {
                    result = stored;
                }
                else if (dryRun)
                {
                    updated["apiVersion"] = groupVersion;
                    updated["kind"] = kind;
                    metadata["resourceVersion"] = (string?)stored?["metadata"]?["resourceVersion"];
                    result = updated;
                }
                else
                {
                    result = Put(resource, updated);
                }
            }

            foreach (var warning in warnings)
            {
                context.Response.Headers.Append("Warning", $"299 - \"{warning.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
            }

            await WriteJsonAsync(context, result.DeepClone(), created ? 201 : 200).ConfigureAwait(false);
        }
        catch (PatchException ex)
        {
            await WriteRefusalAsync(context, ex, name, resource).ConfigureAwait(false);
        }
        catch (ApplyConflictException ex)
        {
            await WriteJsonAsync(context, new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = ex.Message,
                ["reason"] = "Conflict",
                ["details"] = new JsonObject { ["causes"] = ex.Causes },
                ["code"] = 409,
            }, 409).ConfigureAwait(false);
        }
    }

    /// <summary>The request body as JSON text (a protobuf body of a kind <see cref="ProtobufBody"/> reads, converted).</summary>
    private static async Task<string> ReadBodyAsync(HttpContext context, string resource)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return context.Request.ContentType?.Split(';')[0].Trim() == ProtobufBody.ContentType && context.Request.Method is "POST" or "PUT"
            ? ProtobufBody.Decode(resource, buffer.ToArray()).ToJsonString()
            : System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>A refused write as the server's Status: an invalid object names its kind and carries its field as a cause.</summary>
    internal static Task WriteRefusalAsync(HttpContext context, PatchException refusal, string name, string resource)
    {
        if (refusal.CauseType is null)
        {
            return WriteStatusAsync(context, refusal.Code, refusal.Reason, refusal.Message, name, resource);
        }

        return WriteJsonAsync(context, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = refusal.Message,
            ["reason"] = refusal.Reason,
            ["details"] = new JsonObject
            {
                ["name"] = refusal.Kind is { Length: > 0 } ? name : "",
                ["group"] = refusal.Kind!.Contains('.', StringComparison.Ordinal) ? refusal.Kind.Split('.', 2)[1] : "",
                ["kind"] = refusal.Kind.Split('.')[0],
                ["causes"] = new JsonArray(refusal.Field is null
                    ? new JsonObject { ["reason"] = refusal.CauseType, ["message"] = refusal.Detail }
                    : new JsonObject { ["reason"] = refusal.CauseType, ["message"] = refusal.Detail, ["field"] = refusal.Field }),
            },
            ["code"] = refusal.Code,
        }, refusal.Code);
    }

    private static JsonObject Existing(JsonObject? stored, string resource, string name) =>
        stored is null ? throw new PatchException(404, "NotFound", $"{resource} \"{name}\" not found") : (JsonObject)stored.DeepClone();

    /// <summary>
    /// Server-side apply: creates the object from the applied configuration when there is none, else merges it into
    /// the stored one with the field managers' rules (<see cref="ManagedFields.Apply"/>).
    /// </summary>
    private static JsonObject ServerSideApply(JsonObject? stored, string body, string resource, string @namespace, string name, string manager, bool force)
    {
        var (groupVersion, kind) = Resources[resource];
        if (string.IsNullOrEmpty(manager))
        {
            throw PatchException.Invalid("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
        }

        var applied = ApplyConfiguration.Parse(body);
        if ((string?)applied["apiVersion"] != groupVersion || (string?)applied["kind"] != kind)
        {
            throw PatchException.BadRequest($"the API version in the data ({(string?)applied["apiVersion"]}) does not match the expected API version ({groupVersion})");
        }

        CheckIdentity(applied, resource, @namespace, name);
        var live = stored is null
            ? new JsonObject { ["apiVersion"] = groupVersion, ["kind"] = kind, ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace } }
            : (JsonObject)stored.DeepClone();
        ManagedFields.Apply(kind, groupVersion, live, applied, manager, force);
        return live;
    }

    /// <summary>The body's name and namespace must be the URL's (a missing one is the URL's), as the server checks them.</summary>
    private static void CheckIdentity(JsonObject value, string resource, string @namespace, string name)
    {
        if (value["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            value["metadata"] = metadata;
        }

        if ((string?)metadata["name"] is { Length: > 0 } given && given != name)
        {
            throw PatchException.BadRequest($"the name of the object ({given}) does not match the name on the URL ({name})");
        }

        if ((string?)metadata["namespace"] is { Length: > 0 } other && other != @namespace)
        {
            throw PatchException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        var (groupVersion, kind) = Resources[resource];
        if ((string?)value["kind"] is { Length: > 0 } givenKind && givenKind != kind)
        {
            throw PatchException.BadRequest($"{kind} in version \"{groupVersion}\" cannot be handled as a {givenKind}: the kind of the object does not match the resource");
        }

        metadata["name"] = name;
    }

    /// <summary>A write that leaves the object as it was (but for managed-field times) is not stored: same resourceVersion, no event.</summary>
    private static bool Unchanged(JsonObject stored, JsonObject updated)
    {
        static JsonObject Comparable(JsonObject value)
        {
            var copy = (JsonObject)value.DeepClone();
            copy.Remove("apiVersion");
            copy.Remove("kind");
            var metadata = copy["metadata"]!.AsObject();
            metadata.Remove("resourceVersion");
            foreach (var entry in metadata["managedFields"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                entry.Remove("time");
            }

            return copy;
        }

        return JsonNode.DeepEquals(Comparable(stored), Comparable(updated));
    }
}
