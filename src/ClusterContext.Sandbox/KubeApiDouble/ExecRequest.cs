using System.Threading.Channels;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// A <c>pods/exec</c> call as the kubelet receives it: the command for one container, and the client's streams
/// (each null when the client did not ask for it; no stderr with a TTY, where the terminal carries both outputs).
/// </summary>
public sealed class ExecRequest
{
    public required string Namespace { get; init; }

    public required string Pod { get; init; }

    public required string Container { get; init; }

    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Whether the client asked for a terminal (<c>kubectl exec -t</c>).</summary>
    public bool Tty { get; init; }

    /// <summary>What the client sends; ends when the client closes its stdin.</summary>
    public Stream? Stdin { get; init; }

    public Stream? Stdout { get; init; }

    public Stream? Stderr { get; init; }

    /// <summary>The client's terminal sizes, the first as soon as it is known, then one per resize.</summary>
    public required ChannelReader<TerminalSize> TerminalSizes { get; init; }
}
