using System.Diagnostics;
using System.Globalization;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing;

/// <summary>Runs the real agent inside a pod sandbox's network namespace, serving its app container, as an ephemeral container would.</summary>
public static class SandboxAgent
{
    public static Task<AgentProcess> StartAgentAsync(this PodSandbox sandbox, int port, params string[] arguments) =>
        AgentProcess.StartAsync(
            ["--listen", $"0.0.0.0:{port}", "--target-pid", sandbox.AppPid.ToString(CultureInfo.InvariantCulture), .. arguments],
            (file, args) => new ProcessStartInfo("ip", ["netns", "exec", sandbox.PodNetworkNamespace, file, .. args]));
}
