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
