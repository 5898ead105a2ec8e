using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// The <c>pods/ephemeralcontainers</c> subresource: GET returns the pod; PATCH (strategic merge) or PUT adds
/// containers (append-only, names unique), shows each as waiting <c>ContainerCreating</c>, then asks
/// <see cref="KubeApiServer.StartEphemeralContainer"/> to start it and records the state it reports, as the kubelet would.
/// </summary>
internal static class EphemeralContainers
{
    public static async Task HandleAsync(KubeApiServer server, HttpContext context, string @namespace, string pod)
    {
        var stored = server.Get("pods", @namespace, pod)!;
        if (context.Request.Method == "GET")
        {
            await KubeApiServer.WriteJsonAsync(context, stored).ConfigureAwait(false);
            return;
        }

        if (context.Request.Method is not ("PATCH" or "PUT"))
        {
            await KubeApiServer.WriteStatusAsync(context, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource").ConfigureAwait(false);
            return;
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        if ((string?)body?["metadata"]?["resourceVersion"] is { } version && version != (string?)stored["metadata"]!["resourceVersion"])
        {
            // Optimistic concurrency: an update based on an older version of the pod is refused.
            await KubeApiServer.WriteStatusAsync(context, 409, "Conflict",
                $"Operation cannot be fulfilled on pods \"{pod}\": the object has been modified; please apply your changes to the latest version and try again", pod, "pods").ConfigureAwait(false);
            return;
        }

        var requested = body?["spec"]?["ephemeralContainers"]?.AsArray() ?? [];
        var updated = (JsonObject)stored.DeepClone();
        var spec = updated["spec"]!.AsObject();
        var existing = spec["ephemeralContainers"]?.AsArray() ?? [];
        var containerNames = spec["containers"]!.AsArray().Select(c => (string?)c?["name"]).ToHashSet();
        var added = new List<JsonObject>();
        foreach (var node in requested)
        {
            var container = node!.AsObject();
            var name = (string?)container["name"];
            if (existing.Any(e => (string?)e?["name"] == name))
            {
                continue; // Strategic merge: an entry with the same name is the same container.
            }

            if (string.IsNullOrEmpty(name) || containerNames.Contains(name) || string.IsNullOrEmpty((string?)container["image"]))
            {
                await KubeApiServer.WriteStatusAsync(context, 422, "Invalid",
                    $"Pod \"{pod}\" is invalid: spec.ephemeralContainers[{existing.Count + added.Count}]: {(string.IsNullOrEmpty(name) ? "name: Required value" : string.IsNullOrEmpty((string?)container["image"]) ? "image: Required value" : $"name: Duplicate value: \"{name}\"")}",
                    pod, "Pod").ConfigureAwait(false);
                return;
            }

            if ((string?)container["targetContainerName"] is { } targetName && !containerNames.Contains(targetName))
            {
                await KubeApiServer.WriteStatusAsync(context, 422, "Invalid",
                    $"Pod \"{pod}\" is invalid: spec.ephemeralContainers[{existing.Count + added.Count}].targetContainerName: Not found: \"{targetName}\"", pod, "Pod").ConfigureAwait(false);
                return;
            }

            if (server.PodSecurityEnforce.TryGetValue(@namespace, out var level) && PodSecurityAdmission.Check(level, pod, container) is { } refusal)
            {
                await KubeApiServer.WriteStatusAsync(context, 403, "Forbidden", refusal, pod, "pods").ConfigureAwait(false);
                return;
            }

            // The defaults the server fills in for a container, as for the pod's own.
            var defaulted = (JsonObject)container.DeepClone();
            var image = (string)defaulted["image"]!;
            defaulted["imagePullPolicy"] ??= image.EndsWith(":latest", StringComparison.Ordinal) || !image.Split('/')[^1].Contains(':', StringComparison.Ordinal) ? "Always" : "IfNotPresent";
            defaulted["terminationMessagePath"] ??= "/dev/termination-log";
            defaulted["terminationMessagePolicy"] ??= "File";
            defaulted["resources"] ??= new JsonObject();
            added.Add(defaulted);
        }

        foreach (var container in added)
        {
            existing.Add(container);
        }

        spec["ephemeralContainers"] = existing.DeepClone();
        var status = updated["status"] as JsonObject ?? [];
        updated["status"] = status;
        var statuses = status["ephemeralContainerStatuses"]?.AsArray() ?? [];
        foreach (var container in added)
        {
            // As the kubelet reports a container it has not started: imageID empty (the server always writes it), no containerID.
            statuses.Add(new JsonObject
            {
                ["image"] = (string?)container["image"],
                ["imageID"] = "",
                ["lastState"] = new JsonObject(),
                ["name"] = (string?)container["name"],
                ["ready"] = false,
                ["restartCount"] = 0,
                ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } },
            });
        }

        status["ephemeralContainerStatuses"] = statuses.DeepClone();
        var result = server.Put("pods", updated);
        foreach (var container in added)
        {
            _ = StartAsync(server, @namespace, pod, container);
        }

        await KubeApiServer.WriteJsonAsync(context, result).ConfigureAwait(false);
    }

    private static async Task StartAsync(KubeApiServer server, string @namespace, string pod, JsonObject container)
    {
        JsonObject state;
        try
        {
            state = await server.StartEphemeralContainer(@namespace, pod, container).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            state = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "RunContainerError", ["message"] = ex.Message } };
        }

        server.SetEphemeralContainerState(@namespace, pod, (string)container["name"]!, state);
    }
}
