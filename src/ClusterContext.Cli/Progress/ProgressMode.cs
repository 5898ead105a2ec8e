namespace ClusterContext.Cli.Progress;

/// <summary>How progress is shown on stderr (<c>--progress</c>).</summary>
internal enum ProgressMode
{
    /// <summary>A spinner when stderr is a terminal, else plain lines.</summary>
    Auto,

    /// <summary>One line per step.</summary>
    Plain,

    /// <summary>One JSON object per line: <c>{"type":"progress","message":...}</c>, for IDEs.</summary>
    Json,

    /// <summary>Nothing but errors.</summary>
    Quiet,
}
