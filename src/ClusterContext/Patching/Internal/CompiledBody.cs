namespace ClusterContext.Patching.Internal;

/// <summary>A body the JIT hook let through unpatched: where it runs and, when known, its first bytes as the JIT made them.</summary>
internal sealed record CompiledBody(nint Address, byte[]? Start);
