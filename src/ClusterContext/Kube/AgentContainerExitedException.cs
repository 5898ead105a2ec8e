namespace ClusterContext.Kube;

/// <summary>The agent container ended before serving: its exit code (3: it could not listen on its port) and last words.</summary>
internal sealed class AgentContainerExitedException(string container, int? exitCode, string message) : KubeApiException(message)
{
    /// <summary>The agent's exit code for "cannot listen on the port" (taken by the app or another agent).</summary>
    public const int ListenFailed = 3;

    /// <summary>The ephemeral container's name.</summary>
    public string Container { get; } = container;

    /// <summary>The container's exit code, when the kubelet reported one.</summary>
    public int? ExitCode { get; } = exitCode;
}
