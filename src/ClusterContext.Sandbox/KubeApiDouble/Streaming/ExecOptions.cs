namespace ClusterContext.Testing.Kube.Streaming;

/// <summary>An exec request's parameters, after defaulting the container.</summary>
internal sealed record ExecOptions(string Namespace, string Pod, string Container, IReadOnlyList<string> Command, bool Stdin, bool Stdout, bool Stderr, bool Tty);
