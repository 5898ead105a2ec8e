using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ClusterContext.Testing.Tests;

/// <summary>A minimal API under WebApplicationFactory, with the pod's configuration and services.</summary>
[Collection(OrdersPod.Name)]
public sealed class WebApplicationFactoryTests(OrdersPodFixture fixture)
{
    [Fact]
    public async Task TheAppSeesThePodsConfigurationFilesAndServices()
    {
        await using var factory = new WebApplicationFactory<Program>().WithClusterContext(fixture);
        using var client = factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        // appsettings.json says "local": the pod's variable ranks above it, as it does in the pod.
        Assert.Equal("sandbox", await client.GetStringAsync("/mode", ct));
        Assert.Equal("sandbox-orders-password", await client.GetStringAsync("/file", ct));
        Assert.Equal("+PONG", await client.GetStringAsync("/redis", ct));
    }

    [Fact]
    public async Task TheCommandLineStillWins()
    {
        // The command line is in place before WithClusterContext adds the pod's variables: they go under it.
        await using var factory = new WebApplicationFactory<Program>()
            .WithWebHostBuilder(builder => builder.ConfigureAppConfiguration((_, configuration) =>
                Microsoft.Extensions.Configuration.CommandLineConfigurationExtensions.AddCommandLine(configuration, ["--ORDERS_MODE=from-command-line"])))
            .WithClusterContext(fixture);
        using var client = factory.CreateClient();
        Assert.Equal("from-command-line", await client.GetStringAsync("/mode", TestContext.Current.CancellationToken));
    }
}
