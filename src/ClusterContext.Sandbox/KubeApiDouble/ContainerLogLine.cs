namespace ClusterContext.Testing.Kube;

/// <summary>One line a container wrote: when it arrived, on which stream ("stdout"/"stderr"), and its text (without the newline).</summary>
public sealed record ContainerLogLine(DateTimeOffset Time, string Stream, string Text);
