namespace ClusterContext.Testing;

/// <summary>The agent ended (<see cref="ExitCode"/>) or hung before it listened; <see cref="Log"/> is what it said.</summary>
public sealed class AgentStartException(string message, int? exitCode, IReadOnlyList<string> log) : InvalidOperationException(message)
{
    public int? ExitCode { get; } = exitCode;

    public IReadOnlyList<string> Log { get; } = log;
}
