namespace ClusterContext.Testing.Sandbox.Registry;

/// <summary>A process a sandbox started; pid plus start time, so a stale pid that was reused is left alone.</summary>
internal sealed record SandboxStateProcess(string Name, int Pid, long StartTime);
