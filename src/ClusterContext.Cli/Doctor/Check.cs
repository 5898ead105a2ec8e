namespace ClusterContext.Cli.Doctor;

/// <summary>One finding of <c>clusterctx doctor</c>: what was checked, the verdict, what was seen, and how to fix it.</summary>
/// <param name="Name">What was checked, e.g. <c>rbac: patch pods/ephemeralcontainers</c>.</param>
/// <param name="Verdict">ok, warn or fail.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">What to do about a warn or fail.</param>
internal sealed record Check(string Name, Verdict Verdict, string Detail, string? Fix = null);
