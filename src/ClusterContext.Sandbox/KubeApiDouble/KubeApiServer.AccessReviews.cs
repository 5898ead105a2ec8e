using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// <c>POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews</c>: whether the caller may do what the review's
/// <c>resourceAttributes</c> name, decided by the same rules (bound roles and denials) every other request meets; the
/// review comes back with its <c>status</c>, as the real server returns it. Anyone authenticated may ask.
/// </summary>
public sealed partial class KubeApiServer
{
    private async Task HandleAccessReviewAsync(HttpContext context, string user)
    {
        if (context.Request.Method != "POST")
        {
            await WriteStatusAsync(context, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource").ConfigureAwait(false);
            return;
        }

        JsonObject review;
        try
        {
            var type = context.Request.ContentType?.Split(';')[0].Trim();
            if (type == ProtobufBody.ContentType)
            {
                // kubectl auth can-i sends protobuf; the answer is JSON, which every client accepts.
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
                review = ProtobufBody.Decode("selfsubjectaccessreviews", buffer.ToArray());
            }
            else if (type is null or "application/json")
            {
                review = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false))?.AsObject()
                    ?? throw new JsonException("empty body");
            }
            else
            {
                await WriteStatusAsync(context, 415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/vnd.kubernetes.protobuf").ConfigureAwait(false);
                return;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or PatchException)
        {
            await WriteStatusAsync(context, 400, "BadRequest", $"the body of the request could not be read: {ex.Message}").ConfigureAwait(false);
            return;
        }

        if (review["spec"]?["resourceAttributes"] is not JsonObject attributes)
        {
            await WriteStatusAsync(context, 422, "Invalid",
                "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                "", "SelfSubjectAccessReview").ConfigureAwait(false);
            return;
        }

        var group = (string?)attributes["group"] ?? "";
        var resource = (string?)attributes["resource"] ?? "";
        var subresource = (string?)attributes["subresource"];
        var verb = (string?)attributes["verb"] ?? "";
        var @namespace = (string?)attributes["namespace"] ?? "";
        var checkedResource = string.IsNullOrEmpty(subresource) ? resource : $"{resource}/{subresource}";
        var allowed = !_denied.ContainsKey($"{user}|{verb}|{checkedResource}") && Allowed(user, @namespace, group, checkedResource, verb);
        review["apiVersion"] = "authorization.k8s.io/v1";
        review["kind"] = "SelfSubjectAccessReview";
        review["metadata"] ??= new JsonObject();
        review["metadata"]!["creationTimestamp"] = null;
        review["status"] = allowed
            ? new JsonObject { ["allowed"] = true }
            : new JsonObject { ["allowed"] = false };
        await WriteJsonAsync(context, review, code: 201).ConfigureAwait(false);
    }
}
