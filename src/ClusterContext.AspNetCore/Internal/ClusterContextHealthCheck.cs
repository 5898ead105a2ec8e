using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ClusterContext.AspNetCore.Internal;

/// <summary>Healthy while the session runs in the pod's context (or is off); the registration's failure status while it is lost.</summary>
internal sealed class ClusterContextHealthCheck(IClusterContext session) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var where = session.Pod is { } pod ? $"pod {session.PodNamespace}/{pod}, container {session.Container}" : session.Target ?? "the agent";
        var result = session.State switch
        {
            ClusterContextState.Connected => HealthCheckResult.Healthy($"Running in the context of {where}."),
            ClusterContextState.Lost => new HealthCheckResult(context.Registration.FailureStatus, $"The session with {where} is lost; restoring it, remote operations fail meanwhile."),
            ClusterContextState.Local => HealthCheckResult.Degraded($"Running locally: {session.Target ?? "the cluster"} was unreachable (required is false)."),
            _ => HealthCheckResult.Healthy("ClusterContext is off."),
        };
        return Task.FromResult(result);
    }
}
