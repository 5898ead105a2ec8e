using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterContext.Kube;

/// <summary>How the agent container is started.</summary>
/// <param name="Image">The agent image.</param>
/// <param name="Port">The port the agent listens on, on the pod's loopback (only a port-forward reaches it).</param>
/// <param name="IdleTimeout">The agent exits after this long if no session comes, so nothing is left running.</param>
/// <param name="Linger">The agent exits this long after its session ends.</param>
/// <param name="Capabilities">Linux capabilities the enabled features need (none for env/files/outgoing traffic).</param>
internal sealed record AgentContainerSpec(string Image, int Port, TimeSpan IdleTimeout, TimeSpan Linger, IReadOnlyList<string> Capabilities);

/// <summary>A started agent: where it listens and the token that admits this session only.</summary>
/// <param name="Container">The ephemeral container's name.</param>
/// <param name="Port">The agent's port in the pod.</param>
/// <param name="Token">The session token; the pod spec carries only its SHA-256, so readers of the spec cannot use it.</param>
internal sealed record StartedAgent(string Container, int Port, string Token);

/// <summary>
/// Starts the agent in the target pod as an ephemeral container (<c>pods/ephemeralcontainers</c>) that shares the
/// target container's process namespace, and waits until it runs, reporting the container's waiting reason meanwhile.
/// </summary>
internal static class EphemeralAgent
{
    /// <summary>Adds the agent container and waits for it to run.</summary>
    public static async Task<StartedAgent> StartAsync(IKubeApi api, ResolvedTarget target, AgentContainerSpec spec, IProgress<string>? progress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(spec);
        var name = "clusterctx-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var container = new JsonObject
        {
            ["name"] = name,
            ["image"] = spec.Image,
            ["targetContainerName"] = target.Container,
            ["args"] = new JsonArray(
                "--listen", string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{spec.Port}"),
                "--token-sha256", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))),
                "--target-pid", "1",
                "--idle-timeout", spec.IdleTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
                "--linger", spec.Linger.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)),
            ["securityContext"] = SecurityContext(target, spec),
            ["terminationMessagePolicy"] = "FallbackToLogsOnError",
        };
        var patch = new JsonObject { ["spec"] = new JsonObject { ["ephemeralContainers"] = new JsonArray(container) } };
        var path = $"/api/v1/namespaces/{target.Namespace}/pods/{target.Pod}/ephemeralcontainers";
        progress?.Report($"Starting agent container {name} in pod {target.Namespace}/{target.Pod} (image {spec.Image})");
        JsonDocument patched;
        try
        {
            patched = await api.SendAsync(HttpMethod.Patch, path, patch.ToJsonString(), "application/strategic-merge-patch+json", cancellationToken).ConfigureAwait(false);
            Diagnostics.StartupTrace.Mark("agent container added to the pod");
        }
        catch (KubeApiException ex) when (ex.StatusCode is 400 or 403 or 422 && PodSecurityRefusal.Level(ex.Message) is { } level)
        {
            throw new KubeApiException(PodSecurityRefusal.Explain(level, target, spec, ex.Message), ex.StatusCode, ex.Reason, ex);
        }
        catch (KubeApiException ex) when (ex.StatusCode == 403)
        {
            throw new KubeApiException($"Cannot start the agent in pod {target.Pod}: the user of context '{api.Endpoint.Context}' may not patch pods/ephemeralcontainers in namespace '{target.Namespace}'. Grant RBAC verb 'patch' on resource 'pods/ephemeralcontainers' (and 'get' on 'pods'), or run an agent yourself and set agent.address. Server said: {ex.Message}", ex.StatusCode, ex.Reason, ex);
        }
        catch (KubeApiException ex) when (ex.StatusCode == 404 && ex.Reason == "NotFound" && ex.Message.Contains("could not find the requested resource", StringComparison.Ordinal))
        {
            throw new KubeApiException($"The cluster of context '{api.Endpoint.Context}' does not offer ephemeral containers (Kubernetes 1.25+ is needed); run an agent yourself and set agent.address.", ex.StatusCode, ex.Reason, ex);
        }
        catch (KubeApiException ex) when (ex.StatusCode is 400 or 422)
        {
            throw new KubeApiException($"The API server refused the agent container for pod {target.Pod} (an admission policy may forbid ephemeral containers or the requested capabilities): {ex.Message}", ex.StatusCode, ex.Reason, ex);
        }

        using (patched)
        {
            await new Waiter(api, target, name, progress, timeout).WaitAsync(patched.RootElement, cancellationToken).ConfigureAwait(false);
        }

        return new StartedAgent(name, spec.Port, token);
    }

    /// <summary>
    /// As little privilege as the agent needs, in the shape Pod Security "restricted" asks for: no capabilities beyond
    /// the features', no privilege escalation, the runtime's default seccomp profile, and the target's own user (the
    /// agent reads the target's /proc entries, which needs the same user or root; and a pod that must not run as root
    /// gets an agent that does not either).
    /// </summary>
    private static JsonObject SecurityContext(ResolvedTarget target, AgentContainerSpec spec)
    {
        var context = new JsonObject
        {
            ["capabilities"] = new JsonObject
            {
                ["drop"] = new JsonArray("ALL"),
                ["add"] = new JsonArray([.. spec.Capabilities.Select(c => (JsonNode)c)]),
            },
            ["seccompProfile"] = new JsonObject { ["type"] = "RuntimeDefault" },
        };
        if (!spec.Capabilities.Contains("SYS_ADMIN", StringComparer.Ordinal))
        {
            context["allowPrivilegeEscalation"] = false; // the API refuses this together with SYS_ADMIN
        }

        if (target.RunAs is { } runAs)
        {
            if (runAs.User is { } user)
            {
                context["runAsUser"] = user;
            }

            if (runAs.Group is { } group)
            {
                context["runAsGroup"] = group;
            }

            if (runAs.NonRoot)
            {
                context["runAsNonRoot"] = true;
            }
        }

        return context;
    }

    /// <summary>
    /// Follows the pod until the agent container runs: a watch on the pod (from the version the patch returned), so
    /// the change is seen as it happens; polling with backoff where watching is not allowed.
    /// </summary>
    private sealed class Waiter(IKubeApi api, ResolvedTarget target, string name, IProgress<string>? progress, TimeSpan timeout)
    {
        private readonly DateTimeOffset _deadline = DateTimeOffset.UtcNow + timeout;
        private string _described = "waiting to start";
        private string? _reason;

        public async Task WaitAsync(JsonElement pod, CancellationToken cancellationToken)
        {
            if (Observe(pod))
            {
                return;
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                var version = pod.GetProperty("metadata").TryGetProperty("resourceVersion", out var rv) ? rv.GetString() : null;
                try
                {
                    while (true)
                    {
                        var seconds = Math.Max(1, (int)Math.Ceiling((_deadline - DateTimeOffset.UtcNow).TotalSeconds));
                        var path = $"/api/v1/namespaces/{target.Namespace}/pods?fieldSelector=metadata.name%3D{Uri.EscapeDataString(target.Pod)}&watch=true&timeoutSeconds={seconds}" +
                            (version is null ? "" : $"&resourceVersion={version}");
                        await foreach (var (type, value) in api.WatchAsync(path, limit.Token).ConfigureAwait(false))
                        {
                            if (type == "DELETED")
                            {
                                throw new KubeApiException($"Pod {target.Namespace}/{target.Pod} was deleted while the agent container {name} was starting; run again to pick its replacement.");
                            }

                            if (value.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("resourceVersion", out var seen))
                            {
                                version = seen.GetString();
                            }

                            if (type is "ADDED" or "MODIFIED" && Observe(value))
                            {
                                return;
                            }
                        }

                        limit.Token.ThrowIfCancellationRequested(); // the server ended the watch early: watch again from where it was
                    }
                }
                catch (KubeApiException ex) when (ex.StatusCode is 403 or 405 or 410)
                {
                    // Not allowed to watch pods (or the version is too old): ask for the pod instead.
                    await PollAsync(limit.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new KubeApiException($"The agent container {name} in pod {target.Pod} did not start within {timeout.TotalSeconds:0} s: {_described}." + _reason switch
                {
                    "ImagePullBackOff" or "ErrImagePull" or "InvalidImageName" => " Check agent.image and that the cluster can pull it.",
                    "CreateContainerConfigError" when target.RunAs is { NonRoot: true, User: null } =>
                        " The pod must not run as root and names no runAsUser for the agent to share; set runAsUser in the pod's or the container's securityContext.",
                    _ => "",
                });
            }
        }

        private async Task PollAsync(CancellationToken cancellationToken)
        {
            var delay = TimeSpan.FromMilliseconds(100);
            while (true)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                using var pod = await api.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{target.Namespace}/pods/{target.Pod}", null, null, cancellationToken).ConfigureAwait(false);
                if (Observe(pod.RootElement))
                {
                    return;
                }

                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }

        /// <summary>True once the container runs; throws if it ended; reports each new waiting reason.</summary>
        private bool Observe(JsonElement pod)
        {
            var (state, reason, message, exitCode) = State(pod, name);
            if (state == "running")
            {
                return true;
            }

            if (state == "terminated")
            {
                throw new AgentContainerExitedException(name, exitCode, $"The agent container {name} in pod {target.Pod} exited ({reason}, code {exitCode}): {message}");
            }

            var described = reason is null ? "waiting to start" : $"{reason}{(string.IsNullOrEmpty(message) ? "" : ": " + message)}";
            if (described != _described)
            {
                progress?.Report($"Agent container {name}: {described}");
            }

            (_described, _reason) = (described, reason ?? _reason);
            return false;
        }
    }

    private static (string? State, string? Reason, string? Message, int? ExitCode) State(JsonElement pod, string name)
    {
        if (!pod.TryGetProperty("status", out var status) || !status.TryGetProperty("ephemeralContainerStatuses", out var statuses))
        {
            return (null, null, null, null);
        }

        foreach (var entry in statuses.EnumerateArray())
        {
            if (entry.GetProperty("name").GetString() != name || !entry.TryGetProperty("state", out var state))
            {
                continue;
            }

            foreach (var kind in new[] { "running", "terminated", "waiting" })
            {
                if (state.TryGetProperty(kind, out var detail))
                {
                    return (kind,
                        detail.TryGetProperty("reason", out var r) ? r.GetString() : null,
                        detail.TryGetProperty("message", out var m) ? m.GetString()?.Trim() : null,
                        detail.TryGetProperty("exitCode", out var c) && c.TryGetInt32(out var code) ? code : null);
                }
            }
        }

        return (null, null, null, null);
    }
}
