using ClusterContext.Testing;
using ClusterContext.AspNetCore.Internal;
using Microsoft.Extensions.Configuration;

namespace Microsoft.AspNetCore.Mvc.Testing;

/// <summary>Runs a <see cref="WebApplicationFactory{TEntryPoint}"/>'s app in the context of the fixture's pod.</summary>
public static class ClusterContextWebApplicationFactoryExtensions
{
    /// <summary>
    /// A factory whose app sees the pod's environment in <c>IConfiguration</c> with the precedence it has in the pod
    /// (over <c>appsettings*.json</c> and local environment variables, under command-line arguments); the pod's
    /// files, DNS and connections come from the fixture's session, which hooks the whole test process. Skips the
    /// calling test when the fixture runs locally (<c>required: false</c>).
    /// </summary>
    public static WebApplicationFactory<TEntryPoint> WithClusterContext<TEntryPoint>(this WebApplicationFactory<TEntryPoint> factory, ClusterContextFixture fixture)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(fixture);
        var environment = fixture.Environment;
        return factory.WithWebHostBuilder(builder =>
            builder.ConfigureAppConfiguration((_, configuration) => PodEnvironmentConfigurationSource.Insert(configuration, environment)));
    }
}
