using ClusterContext;
using ClusterContext.AspNetCore.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The ClusterContext session as a health check.</summary>
public static class ClusterContextHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check that is healthy while the app runs in the pod's context (or ClusterContext is off), degraded when it
    /// runs locally because the cluster was unreachable, and <paramref name="failureStatus"/> while the session is lost.
    /// Needs <c>UseClusterContext()</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name. Default: <c>clustercontext</c>.</param>
    /// <param name="failureStatus">The status while the session is lost. Default: <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags for filtering checks. Default: none.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddClusterContext(this IHealthChecksBuilder builder, string name = "clustercontext", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, services => new ClusterContextHealthCheck(services.GetRequiredService<IClusterContext>()), failureStatus, tags));
    }
}
