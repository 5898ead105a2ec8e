using ClusterContext.Testing.Kube.Streaming;

namespace ClusterContext.Testing.Kube;

public sealed partial class KubeApiServer
{
    /// <summary>
    /// A container's log for <c>pods/log</c>: (namespace, pod, container) → what it wrote, or null when it has not
    /// started (the kubelet's "waiting to start"). By default no container has one.
    /// </summary>
    public Func<string, string, string, ContainerLog?> ContainerLogs { get; set; } = (_, _, _) => null;

    /// <summary>
    /// Runs a <c>pods/exec</c> command in its container and returns its exit code; an exception is reported to the
    /// client as the kubelet reports a command it could not run. By default nothing can be run.
    /// </summary>
    public Func<ExecRequest, CancellationToken, Task<int>> Exec { get; set; } =
        (request, _) => throw new InvalidOperationException($"container \"{request.Container}\" of pod \"{request.Pod}\" runs nowhere");

    private void AddStreamingSubresources()
    {
        Subresources["log"] = (context, @namespace, _, pod) =>
            PodLogs.HandleAsync(context, Get("pods", @namespace, pod)!, ContainerLogs, _stopping.Token);
        Subresources["exec"] = (context, @namespace, _, pod) =>
            PodExec.HandleAsync(context, Get("pods", @namespace, pod)!, Exec);
    }
}
