namespace ClusterContext.Testing.Sandbox.Processes;

/// <summary>A finished external command with everything it printed.</summary>
internal sealed record CommandResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError);
