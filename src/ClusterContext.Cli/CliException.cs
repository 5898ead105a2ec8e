namespace ClusterContext.Cli;

/// <summary>A failure whose message says what failed and what to do, and the exit code it ends the command with.</summary>
internal sealed class CliException(string message, int exitCode, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
