namespace ClusterContext.Kube;

/// <summary>The kinds of object a target can name.</summary>
internal enum TargetKind
{
    /// <summary>A pod, by name.</summary>
    Pod,

    /// <summary>A deployment: one of its running, ready pods.</summary>
    Deployment,

    /// <summary>A statefulset: one of its running, ready pods.</summary>
    StatefulSet,

    /// <summary>A replicaset: one of its running, ready pods.</summary>
    ReplicaSet,

    /// <summary>A job: one of its running, ready pods.</summary>
    Job,

    /// <summary>A daemonset: one of its running, ready pods.</summary>
    DaemonSet,
}

/// <summary>
/// What the session runs in the context of, parsed from <c>target</c>: <c>KIND/NAME</c> or <c>NAME</c> (a pod),
/// optionally followed by <c>/container/CONTAINER</c>. Kinds accept kubectl's names and short names
/// (<c>po</c>, <c>deploy</c>, <c>sts</c>, <c>rs</c>, plurals).
/// </summary>
/// <param name="Kind">The kind of object.</param>
/// <param name="Name">Its name.</param>
/// <param name="Container">The container to run alongside; null for the pod's default container.</param>
internal sealed record KubeTarget(TargetKind Kind, string Name, string? Container)
{
    private const string Forms = "Use pod/NAME, deployment/NAME, statefulset/NAME, replicaset/NAME, daemonset/NAME, job/NAME or NAME, optionally followed by /container/CONTAINER.";

    /// <summary>Parses a target; the error message says which part is wrong and which forms are accepted.</summary>
    public static KubeTarget Parse(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var parts = target.Trim().Split('/');
        var kind = parts.Length % 2 == 1 ? TargetKind.Pod : KindOf(parts[0], target);
        var rest = parts.AsSpan(parts.Length % 2 == 1 ? 0 : 1);
        if (rest.Length is not (1 or 3) || (rest.Length == 3 && rest[1] != "container"))
        {
            throw new ConfigurationException($"Target '{target}' is not understood. {Forms}");
        }

        var name = rest[0];
        if (!IsSubdomain(name))
        {
            throw new ConfigurationException($"Target '{target}': '{name}' is not a valid object name (lower-case letters, digits, '-' and '.', at most 253). {Forms}");
        }

        string? container = null;
        if (rest.Length == 3)
        {
            container = rest[2];
            if (!IsLabel(container))
            {
                throw new ConfigurationException($"Target '{target}': '{container}' is not a valid container name (lower-case letters, digits and '-', at most 63).");
            }
        }

        return new KubeTarget(kind, name, container);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()}/{Name}{(Container is null ? "" : "/container/" + Container)}";

    private static TargetKind KindOf(string kind, string target) => kind.ToLowerInvariant() switch
    {
        "pod" or "pods" or "po" => TargetKind.Pod,
        "deployment" or "deployments" or "deploy" => TargetKind.Deployment,
        "statefulset" or "statefulsets" or "sts" => TargetKind.StatefulSet,
        "replicaset" or "replicasets" or "rs" => TargetKind.ReplicaSet,
        "job" or "jobs" => TargetKind.Job,
        "daemonset" or "daemonsets" or "ds" => TargetKind.DaemonSet,
        _ => throw new ConfigurationException($"Target '{target}': kind '{kind}' is not supported. {Forms}"),
    };

    private static bool IsSubdomain(string name) =>
        name.Length is > 0 and <= 253 && name.Split('.').All(IsLabelChars);

    private static bool IsLabel(string name) => name.Length <= 63 && IsLabelChars(name);

    private static bool IsLabelChars(string label) =>
        label.Length > 0 && IsLowerOrDigit(label[0]) && IsLowerOrDigit(label[^1]) && label.All(c => IsLowerOrDigit(c) || c == '-');

    private static bool IsLowerOrDigit(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
