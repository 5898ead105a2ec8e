using ClusterContext;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace OrdersApi;

internal static class OrdersEndpoints
{
    private const string CountKey = "orders:count";

    public static async Task<OrdersSummary> SummaryAsync(IConfiguration configuration, IOptionsMonitor<OrdersOptions> options,
        IConnectionMultiplexer redis, WebClient web, IClusterContext context, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        var pong = await database.PingAsync();
        var count = (long?)await database.StringGetAsync(CountKey) ?? 0;
        return new OrdersSummary(
            Mode: configuration["ORDERS_MODE"],
            Source: options.CurrentValue.Source,
            // The secret's file name is its configuration key (AddKeyPerFile); its value is never shown.
            PasswordLength: configuration["password"]?.Length ?? 0,
            Redis: $"PONG in {pong.TotalMilliseconds:0.0} ms",
            OrdersPlaced: count,
            Web: await web.GetStatusAsync(cancellationToken),
            Context: $"{context.State} {context.PodNamespace}/{context.Pod} {context.Container}".TrimEnd());
    }

    public static async Task<IResult> PlaceAsync(string id, HttpRequest request, IConnectionMultiplexer redis)
    {
        using var reader = new StreamReader(request.Body);
        var order = await reader.ReadToEndAsync();
        var database = redis.GetDatabase();
        await database.StringSetAsync($"orders:{id}", order);
        var count = await database.StringIncrementAsync(CountKey);
        return Results.Created($"/orders/{id}", new { id, order, count });
    }

    public static async Task<IResult> GetAsync(string id, IConnectionMultiplexer redis)
    {
        var order = await redis.GetDatabase().StringGetAsync($"orders:{id}");
        return order.IsNull ? Results.NotFound() : Results.Text(order.ToString());
    }
}
