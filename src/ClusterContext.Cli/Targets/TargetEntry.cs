namespace ClusterContext.Cli.Targets;

/// <summary>One workload or pod a session can run in: what <c>-t</c> takes, and what an IDE's picker shows.</summary>
/// <param name="Target">The value for <c>-t</c> / <c>target</c>, e.g. <c>deployment/orders</c>.</param>
/// <param name="Kind">pod, deployment, statefulset, daemonset, replicaset or job.</param>
/// <param name="Name">The object's name.</param>
/// <param name="Namespace">Its namespace.</param>
/// <param name="Ready">Ready pods of desired (<c>1/1</c>); for a pod, its ready containers of all.</param>
/// <param name="Containers">Its containers (a workload's from its pod template).</param>
internal sealed record TargetEntry(string Target, string Kind, string Name, string Namespace, string Ready, IReadOnlyList<ContainerEntry> Containers);

/// <summary>A container of a target.</summary>
/// <param name="Name">Its name (<c>-t deployment/x/container/NAME</c>).</param>
/// <param name="Image">Its image.</param>
/// <param name="Ports">The ports it declares.</param>
internal sealed record ContainerEntry(string Name, string? Image, IReadOnlyList<PortEntry> Ports);

/// <summary>A declared container port.</summary>
/// <param name="ContainerPort">The port number.</param>
/// <param name="Name">Its name, if any.</param>
/// <param name="Protocol">TCP, UDP or SCTP.</param>
internal sealed record PortEntry(int ContainerPort, string? Name, string Protocol);

/// <summary>What <c>clusterctx ls -o json</c> prints.</summary>
/// <param name="Context">The kubeconfig context.</param>
/// <param name="Namespace">The namespace listed.</param>
/// <param name="Targets">Its targets, workloads first.</param>
/// <param name="Warnings">Kinds that could not be listed, and why (e.g. RBAC).</param>
internal sealed record TargetList(string Context, string Namespace, IReadOnlyList<TargetEntry> Targets, IReadOnlyList<string> Warnings);
