using System.Text.Json.Nodes;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// The capabilities part of Pod Security admission, as the API server enforces it on a namespace labelled
/// <c>pod-security.kubernetes.io/enforce</c>: baseline admits only the container runtime's default capabilities,
/// restricted only <c>NET_BIND_SERVICE</c>; a container asking for more is refused with 403 and the level's name.
/// </summary>
internal static class PodSecurityAdmission
{
    private static readonly HashSet<string> Baseline = new(StringComparer.Ordinal)
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    };

    /// <summary>The refusal's message for <paramref name="container"/> under <paramref name="level"/>, or null when admitted.</summary>
    public static string? Check(string level, string pod, JsonObject container)
    {
        var added = container["securityContext"]?["capabilities"]?["add"]?.AsArray().Select(c => (string?)c).OfType<string>().ToList() ?? [];
        var forbidden = level switch
        {
            "baseline" => added.Where(c => !Baseline.Contains(c)).ToList(),
            "restricted" => added.Where(c => c != "NET_BIND_SERVICE").ToList(),
            _ => [],
        };
        if (forbidden.Count == 0)
        {
            return null;
        }

        var what = level == "restricted" ? "unrestricted capabilities" : "non-default capabilities";
        var names = string.Join(", ", forbidden.Select(c => $"\"{c}\""));
        return $"pods \"{pod}\" is forbidden: violates PodSecurity \"{level}:latest\": {what} (container \"{(string?)container["name"]}\" must not include {names} in securityContext.capabilities.add)";
    }
}
