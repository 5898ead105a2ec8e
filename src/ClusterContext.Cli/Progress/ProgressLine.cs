namespace ClusterContext.Cli.Progress;

/// <summary>One line of <c>--progress json</c>.</summary>
/// <param name="Type"><c>progress</c> (a step begins), <c>warning</c>, <c>ready</c> (the session is up).</param>
/// <param name="Message">What happens.</param>
/// <param name="Time">When.</param>
internal sealed record ProgressLine(string Type, string Message, DateTimeOffset Time);
