namespace ClusterContext.Cli.Targets;

/// <summary>What <c>clusterctx ls -o json</c> prints.</summary>
/// <param name="Context">The kubeconfig context.</param>
/// <param name="Namespace">The namespace listed.</param>
/// <param name="Targets">Its targets, workloads first.</param>
/// <param name="Warnings">Kinds that could not be listed, and why (e.g. RBAC).</param>
internal sealed record TargetList(string Context, string Namespace, IReadOnlyList<TargetEntry> Targets, IReadOnlyList<string> Warnings);
