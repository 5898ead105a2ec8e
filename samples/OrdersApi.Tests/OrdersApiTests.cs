using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace OrdersApi.Tests;

/// <summary>OrdersApi under WebApplicationFactory, with the pod's configuration, files and services.</summary>
public sealed class OrdersApiTests(OrdersPod pod) : IClassFixture<OrdersPod>
{
    [Fact]
    public async Task The_summary_shows_the_pods_configuration_secret_redis_and_web()
    {
        await using var factory = new WebApplicationFactory<Program>().WithClusterContext(pod);
        using var client = factory.CreateClient();

        var summary = await client.GetFromJsonAsync<Summary>("/orders/summary", TestContext.Current.CancellationToken);

        Assert.NotNull(summary);
        // appsettings.json says "local" for both: the pod's variable and its ConfigMap win.
        Assert.Equal(pod.Environment["ORDERS_MODE"], summary.Mode);
        Assert.Equal("configmap", summary.Source);
        Assert.Equal(File.ReadAllText("/var/run/secrets/orders/password").Length, summary.PasswordLength);
        Assert.StartsWith("PONG in ", summary.Redis, StringComparison.Ordinal);
        Assert.Equal("web", summary.Web);
    }

    [Fact]
    public async Task An_order_placed_is_kept_in_the_clusters_redis()
    {
        await using var factory = new WebApplicationFactory<Program>().WithClusterContext(pod);
        using var client = factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        var id = Guid.NewGuid().ToString("N");

        using var placed = await client.PostAsync($"/orders/{id}", new StringContent("two pizzas"), ct);

        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        Assert.Equal("two pizzas", await client.GetStringAsync($"/orders/{id}", ct));
        // Read back by another client, straight from redis by its cluster name.
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync("redis:6379");
        Assert.Equal("two pizzas", (string?)await redis.GetDatabase().StringGetAsync($"orders:{id}"));
    }

    private sealed record Summary(string? Mode, string? Source, int PasswordLength, string Redis, long OrdersPlaced, string Web, string Context);
}
