namespace ClusterContext.Cli.Targets;

/// <summary>A container of a target.</summary>
/// <param name="Name">Its name (<c>-t deployment/x/container/NAME</c>).</param>
/// <param name="Image">Its image.</param>
/// <param name="Ports">The ports it declares.</param>
internal sealed record ContainerEntry(string Name, string? Image, IReadOnlyList<PortEntry> Ports);
