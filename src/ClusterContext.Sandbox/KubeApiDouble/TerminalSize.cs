namespace ClusterContext.Testing.Kube;

/// <summary>A terminal size as a client's resize stream carries it (<c>{"Width":80,"Height":24}</c>).</summary>
public readonly record struct TerminalSize(ushort Width, ushort Height);
