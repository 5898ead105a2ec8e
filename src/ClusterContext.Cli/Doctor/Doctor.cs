using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterContext.Kube;

namespace ClusterContext.Cli.Doctor;

/// <summary>
/// The checks of <c>clusterctx doctor</c>, in the order a session meets them: kubeconfig and context, API server, clock,
/// RBAC (each permission through a SelfSubjectAccessReview), ephemeral containers, the target, the namespace's Pod
/// Security level against what incoming traffic needs, and (on request) the agent image in a short test container.
/// </summary>
internal static class Doctor
{
    private static readonly TimeSpan SkewWarning = TimeSpan.FromSeconds(30);

    public static async Task<IReadOnlyList<Check>> RunAsync(ClusterContextOptions options, bool pullTest, CancellationToken cancellationToken)
    {
        var checks = new List<Check>();
        KubeEndpoint endpoint;
        try
        {
            endpoint = KubeConfigLoader.Load(options.Context, options.Namespace);
            checks.Add(new Check("kubeconfig", Verdict.Ok, $"context '{endpoint.Context}', server {endpoint.Server}, namespace '{endpoint.Namespace}'"));
        }
        catch (KubeConfigException ex)
        {
            checks.Add(new Check("kubeconfig", Verdict.Fail, ex.Message, "Set KUBECONFIG or --context to a context that reaches your cluster (kubectl config get-contexts lists them)."));
            return checks;
        }

        using var api = new KubeApiClient(endpoint) { RequestTimeout = TimeSpan.FromSeconds(10) };
        if (!await ServerAsync(api, checks, cancellationToken).ConfigureAwait(false))
        {
            return checks;
        }

        KubeTarget? target = null;
        if (options.Target is { } text)
        {
            try
            {
                target = KubeTarget.Parse(text);
            }
            catch (ConfigurationException ex)
            {
                checks.Add(new Check("target", Verdict.Fail, ex.Message, "Give -t KIND/NAME, e.g. -t deployment/orders ('clusterctx ls' lists them)."));
            }
        }

        await AccessAsync(api, endpoint.Namespace, target?.Kind, checks, cancellationToken).ConfigureAwait(false);
        await EphemeralContainersAsync(api, checks, cancellationToken).ConfigureAwait(false);
        ResolvedTarget? resolved = null;
        if (target is not null)
        {
            try
            {
                resolved = await TargetResolver.ResolveAsync(api, target, endpoint.Namespace, cancellationToken).ConfigureAwait(false);
                checks.Add(new Check("target", Verdict.Ok, $"{target}: pod {resolved.Pod}, container {resolved.Container}"));
            }
            catch (Exception ex) when (ex is TargetResolutionException or KubeApiException)
            {
                checks.Add(new Check("target", Verdict.Fail, ex.Message, "Check the name and namespace with 'clusterctx ls -n NAMESPACE'; the target needs a running, ready pod."));
            }
        }

        await PodSecurityAsync(api, endpoint.Namespace, options, checks, cancellationToken).ConfigureAwait(false);
        if (pullTest && resolved is not null)
        {
            await AgentImageAsync(api, resolved, options, checks, cancellationToken).ConfigureAwait(false);
        }

        return checks;
    }

    private static async Task<bool> ServerAsync(KubeApiClient api, List<Check> checks, CancellationToken cancellationToken)
    {
        try
        {
            var before = DateTimeOffset.UtcNow;
            using var response = await api.SendRawAsync(HttpMethod.Get, "/version", null, null, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            var after = DateTimeOffset.UtcNow;
            using var version = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
            var gitVersion = version.RootElement.TryGetProperty("gitVersion", out var v) ? v.GetString() : "unknown";
            checks.Add(new Check("api server", Verdict.Ok, $"{api.Endpoint.Server} answers, Kubernetes {gitVersion}"));
            if (response.Headers.Date is { } serverTime)
            {
                // The Date header has whole seconds: a skew within the round trip plus one second is none.
                var local = before + ((after - before) / 2);
                var skew = serverTime - local;
                var slack = (after - before) + TimeSpan.FromSeconds(1);
                var magnitude = skew.Duration() <= slack ? TimeSpan.Zero : skew.Duration() - slack;
                checks.Add(magnitude > SkewWarning
                    ? new Check("clock", Verdict.Warn, string.Create(CultureInfo.InvariantCulture, $"this machine's clock is {Math.Abs(skew.TotalSeconds):0} s {(skew > TimeSpan.Zero ? "behind" : "ahead of")} the API server's"),
                        "Synchronize this machine's clock (timedatectl set-ntp true): tokens and certificates are checked against it.")
                    : new Check("clock", Verdict.Ok, "within a second or two of the API server's"));
            }
            else
            {
                checks.Add(new Check("clock", Verdict.Warn, "the API server sent no Date header; skew not measured"));
            }

            return true;
        }
        catch (KubeApiException ex) when (ex.StatusCode is 401)
        {
            checks.Add(new Check("api server", Verdict.Fail, ex.Message, "Your credentials are not accepted: log in again (refresh the kubeconfig's token or certificate)."));
            return false;
        }
        catch (KubeApiException ex)
        {
            checks.Add(new Check("api server", Verdict.Fail, ex.Message, "Check that the cluster runs and that this machine reaches its API server (VPN, proxy, firewall)."));
            return false;
        }
    }

    private static async Task AccessAsync(KubeApiClient api, string @namespace, TargetKind? kind, List<Check> checks, CancellationToken cancellationToken)
    {
        foreach (var need in AccessNeed.For(kind))
        {
            var name = $"rbac: {need.Verb} {need.Display}";
            var review = new JsonObject
            {
                ["apiVersion"] = "authorization.k8s.io/v1",
                ["kind"] = "SelfSubjectAccessReview",
                ["spec"] = new JsonObject
                {
                    ["resourceAttributes"] = new JsonObject
                    {
                        ["namespace"] = @namespace,
                        ["verb"] = need.Verb,
                        ["group"] = need.Group,
                        ["resource"] = need.Resource,
                        ["subresource"] = need.Subresource ?? "",
                    },
                },
            };
            try
            {
                using var answer = await api.SendAsync(HttpMethod.Post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review.ToJsonString(), "application/json", cancellationToken).ConfigureAwait(false);
                var status = answer.RootElement.GetProperty("status");
                var allowed = status.TryGetProperty("allowed", out var a) && a.ValueKind == JsonValueKind.True;
                var group = need.Group.Length == 0 ? "core" : need.Group;
                if (allowed)
                {
                    checks.Add(new Check(name, Verdict.Ok, $"allowed in namespace '{@namespace}' ({need.Why})"));
                }
                else
                {
                    var reason = status.TryGetProperty("reason", out var r) && r.GetString() is { Length: > 0 } text ? $": {text}" : "";
                    // Without a target, a workload kind's read matters only for targets of that kind.
                    var verdict = kind is null && need.Resource != "pods" ? Verdict.Warn : Verdict.Fail;
                    checks.Add(new Check(name, verdict,
                        $"denied: you cannot {need.Verb} resource \"{need.Display}\" in API group \"{group}\" in namespace '{@namespace}'{reason}; needed to {need.Why}",
                        $"Add verb \"{need.Verb}\" on \"{need.Display}\" (apiGroups [\"{need.Group}\"]) to a Role bound to you in '{@namespace}' (docs/clustercontext-rbac.yaml has the whole Role)."));
                }
            }
            catch (KubeApiException ex)
            {
                checks.Add(new Check(name, Verdict.Warn, $"not checked: {ex.Message}", "Ask your cluster administrator whether you may create selfsubjectaccessreviews (every user normally may)."));
            }
        }
    }

    private static async Task EphemeralContainersAsync(KubeApiClient api, List<Check> checks, CancellationToken cancellationToken)
    {
        try
        {
            using var resources = await api.SendAsync(HttpMethod.Get, "/api/v1", null, null, cancellationToken).ConfigureAwait(false);
            var served = resources.RootElement.GetProperty("resources").EnumerateArray().Any(r => r.GetProperty("name").GetString() == "pods/ephemeralcontainers");
            checks.Add(served
                ? new Check("ephemeral containers", Verdict.Ok, "the API serves pods/ephemeralcontainers")
                : new Check("ephemeral containers", Verdict.Fail, "the API does not serve pods/ephemeralcontainers: the agent cannot be added to a pod",
                    "Ephemeral containers are on by default since Kubernetes 1.25; upgrade the cluster or enable the EphemeralContainers feature gate."));
        }
        catch (KubeApiException ex)
        {
            checks.Add(new Check("ephemeral containers", Verdict.Warn, $"not checked: {ex.Message}"));
        }
    }

    private static async Task PodSecurityAsync(KubeApiClient api, string @namespace, ClusterContextOptions options, List<Check> checks, CancellationToken cancellationToken)
    {
        const string Label = "pod-security.kubernetes.io/enforce";
        var incoming = options.Network.Incoming.Mode != IncomingTrafficMode.Off;
        try
        {
            using var document = await api.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{@namespace}", null, null, cancellationToken).ConfigureAwait(false);
            var level = document.RootElement.GetProperty("metadata").TryGetProperty("labels", out var labels) && labels.TryGetProperty(Label, out var value)
                ? value.GetString() ?? "privileged"
                : "privileged";
            if (level == "privileged")
            {
                checks.Add(new Check("pod security", Verdict.Ok, $"namespace '{@namespace}' enforces '{level}': the agent may have NET_ADMIN for incoming traffic (--steal, --mirror)"));
                return;
            }

            checks.Add(new Check("pod security", incoming ? Verdict.Fail : Verdict.Warn,
                $"namespace '{@namespace}' enforces '{level}', which forbids NET_ADMIN: incoming traffic (--steal, --mirror) cannot be redirected; environment, files, DNS and outgoing connections work",
                $"To receive incoming traffic, a cluster administrator can set the namespace's label {Label}=privileged (kubectl label ns {@namespace} {Label}=privileged --overwrite), or use a namespace that allows it."));
        }
        catch (KubeApiException ex) when (ex.StatusCode is 403 or 404)
        {
            checks.Add(new Check("pod security", Verdict.Warn, $"the namespace could not be read ({ex.Message}); its Pod Security level is unknown",
                "If incoming traffic fails to start with 'violates PodSecurity', the namespace forbids NET_ADMIN."));
        }
    }

    private static async Task AgentImageAsync(KubeApiClient api, ResolvedTarget target, ClusterContextOptions options, List<Check> checks, CancellationToken cancellationToken)
    {
        var name = "agent image";
        try
        {
            // The agent leaves at once when no session comes: the container runs, proving the image, and ends.
            var port = System.Security.Cryptography.RandomNumberGenerator.GetInt32(40000, 60000);
            var spec = new AgentContainerSpec(options.Agent.Image, port, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), []);
            var started = await EphemeralAgent.StartAsync(api, target, spec, null, options.Agent.StartTimeout, cancellationToken).ConfigureAwait(false);
            checks.Add(new Check(name, Verdict.Ok, $"{options.Agent.Image} pulled and started in pod {target.Pod} (test container {started.Container}, which ends by itself within seconds)"));
        }
        catch (KubeApiException ex)
        {
            checks.Add(new Check(name, Verdict.Fail, ex.Message,
                $"The node must be able to pull {options.Agent.Image}: push it to a registry the cluster reaches and set agent.image (CLUSTERCONTEXT_AGENT_IMAGE), or add an image pull secret."));
        }
    }
}
