namespace ClusterContext.Cli.Targets;

/// <summary>One workload or pod a session can run in: what <c>-t</c> takes, and what an IDE's picker shows.</summary>
/// <param name="Target">The value for <c>-t</c> / <c>target</c>, e.g. <c>deployment/orders</c>.</param>
/// <param name="Kind">pod, deployment, statefulset, daemonset, replicaset or job.</param>
/// <param name="Name">The object's name.</param>
/// <param name="Namespace">Its namespace.</param>
/// <param name="Ready">Ready pods of desired (<c>1/1</c>); for a pod, its ready containers of all.</param>
/// <param name="Containers">Its containers (a workload's from its pod template).</param>
internal sealed record TargetEntry(string Target, string Kind, string Name, string Namespace, string Ready, IReadOnlyList<ContainerEntry> Containers);
