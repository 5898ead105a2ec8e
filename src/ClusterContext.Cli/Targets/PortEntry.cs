namespace ClusterContext.Cli.Targets;

/// <summary>A declared container port.</summary>
/// <param name="ContainerPort">The port number.</param>
/// <param name="Name">Its name, if any.</param>
/// <param name="Protocol">TCP, UDP or SCTP.</param>
internal sealed record PortEntry(int ContainerPort, string? Name, string Protocol);
