namespace ClusterContext.Cli.Doctor;

/// <summary>One RBAC permission a session's path uses (docs/clustercontext-rbac.yaml), and why.</summary>
/// <param name="Group">The API group ("" is the core group).</param>
/// <param name="Resource">The resource.</param>
/// <param name="Subresource">The subresource, if any.</param>
/// <param name="Verb">The verb.</param>
/// <param name="Why">What the session does with it.</param>
internal sealed record AccessNeed(string Group, string Resource, string? Subresource, string Verb, string Why)
{
    public string Display => Subresource is null ? Resource : $"{Resource}/{Subresource}";

    /// <summary>What a session to a target of <paramref name="kind"/> needs (null: any kind, so each workload's read).</summary>
    public static IReadOnlyList<AccessNeed> For(Kube.TargetKind? kind)
    {
        var needs = new List<AccessNeed>();
        void Workload(Kube.TargetKind of, string group, string resource) =>
            needs.Add(new AccessNeed(group, resource, null, "get", $"resolve a {of.ToString().ToLowerInvariant()} target to its pods"));
        if (kind is null or Kube.TargetKind.Deployment)
        {
            Workload(Kube.TargetKind.Deployment, "apps", "deployments");
        }

        if (kind is null or Kube.TargetKind.StatefulSet)
        {
            Workload(Kube.TargetKind.StatefulSet, "apps", "statefulsets");
        }

        if (kind is null or Kube.TargetKind.ReplicaSet)
        {
            Workload(Kube.TargetKind.ReplicaSet, "apps", "replicasets");
        }

        if (kind is null or Kube.TargetKind.DaemonSet)
        {
            Workload(Kube.TargetKind.DaemonSet, "apps", "daemonsets");
        }

        if (kind is null or Kube.TargetKind.Job)
        {
            Workload(Kube.TargetKind.Job, "batch", "jobs");
        }

        needs.Add(new AccessNeed("", "pods", null, "get", "read the target pod"));
        needs.Add(new AccessNeed("", "pods", null, "list", "find a workload's pods"));
        needs.Add(new AccessNeed("", "pods", null, "watch", "wait for the agent container to run"));
        needs.Add(new AccessNeed("", "pods", "ephemeralcontainers", "patch", "start the agent in the pod"));
        needs.Add(new AccessNeed("", "pods", "portforward", "get", "reach the agent (WebSocket port-forward)"));
        needs.Add(new AccessNeed("", "pods", "portforward", "create", "reach the agent (port-forward)"));
        return needs;
    }
}
