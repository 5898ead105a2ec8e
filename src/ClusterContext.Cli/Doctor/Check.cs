namespace ClusterContext.Cli.Doctor;

/// <summary>A check's verdict.</summary>
internal enum Verdict
{
    /// <summary>Fine.</summary>
    Ok,

    /// <summary>Works, with a limit the message names (e.g. no incoming traffic).</summary>
    Warn,

    /// <summary>Sessions cannot start until it is fixed.</summary>
    Fail,
}

/// <summary>One finding of <c>clusterctx doctor</c>: what was checked, the verdict, what was seen, and how to fix it.</summary>
/// <param name="Name">What was checked, e.g. <c>rbac: patch pods/ephemeralcontainers</c>.</param>
/// <param name="Verdict">ok, warn or fail.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">What to do about a warn or fail.</param>
internal sealed record Check(string Name, Verdict Verdict, string Detail, string? Fix = null);
