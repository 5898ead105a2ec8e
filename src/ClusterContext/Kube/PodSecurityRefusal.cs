using System.Text.RegularExpressions;

namespace ClusterContext.Kube;

/// <summary>
/// The API server's Pod Security admission refused the agent container (<c>violates PodSecurity "baseline:latest": ...</c>):
/// the error names the namespace's level, what the agent asked for and why, and the label that decides it.
/// </summary>
internal static partial class PodSecurityRefusal
{
    public const string EnforceLabel = "pod-security.kubernetes.io/enforce";

    /// <summary>The enforced level (<c>baseline</c>, <c>restricted</c>) the message names, or null when it is no Pod Security refusal.</summary>
    public static string? Level(string message) => Violation().Match(message) is { Success: true } match ? match.Groups["level"].Value : null;

    public static string Explain(string level, ResolvedTarget target, AgentContainerSpec spec, string serverMessage)
    {
        var needs = spec.Capabilities.Contains("NET_ADMIN", StringComparer.Ordinal)
            ? $"The agent asks for the NET_ADMIN capability (and no other) because network.incoming.mode is on: it redirects the pod's ports with nftables. Pod Security level '{level}' allows NET_ADMIN only at level 'privileged'. "
            : $"The agent container does not satisfy Pod Security level '{level}'. ";
        return $"Cannot start the agent in pod {target.Pod}: namespace '{target.Namespace}' enforces Pod Security level '{level}' (label {EnforceLabel}). " + needs +
            $"Change the namespace's label (kubectl label namespace {target.Namespace} {EnforceLabel}=privileged --overwrite, by someone allowed to), " +
            (spec.Capabilities.Count > 0 ? "or set network.incoming.mode to off (CLUSTERCONTEXT_INCOMING_MODE=off) to run without incoming traffic. " : "or run an agent yourself and set agent.address. ") +
            $"Server said: {serverMessage}";
    }

    [GeneratedRegex("violates PodSecurity \"(?<level>[a-z]+)(:[^\"]*)?\"")]
    private static partial Regex Violation();
}
