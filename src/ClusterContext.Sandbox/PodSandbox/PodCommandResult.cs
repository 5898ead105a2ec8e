namespace ClusterContext.Testing.Sandbox;

/// <summary>The outcome of a command run to completion inside the pod's network namespace.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="StandardOutput">Everything written to standard output.</param>
/// <param name="StandardError">Everything written to standard error.</param>
public sealed record PodCommandResult(int ExitCode, string StandardOutput, string StandardError);
