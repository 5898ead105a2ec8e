using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace OrdersWorker;

/// <summary>Each round: the options it sees, and the orders counted in redis (a counter OrdersApi also increments).</summary>
internal sealed partial class OrdersCounter(
    IOptionsMonitor<OrdersOptions> orders, IOptionsMonitor<WorkerOptions> worker, IConnectionMultiplexer redis, ILogger<OrdersCounter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var changes = orders.OnChange(o => LogReloaded(o.Source));
        var database = redis.GetDatabase();
        for (var round = 1; !stoppingToken.IsCancellationRequested; round++)
        {
            try
            {
                var count = await database.StringIncrementAsync("orders:worker-rounds");
                var placed = (long?)await database.StringGetAsync("orders:count") ?? 0;
                LogRound(round, orders.CurrentValue.Source, count, placed);
            }
            catch (RedisException ex)
            {
                LogRedisUnreachable(round, ex.Message);
            }

            try
            {
                await Task.Delay(worker.CurrentValue.Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        LogStopped();
    }

    [LoggerMessage(1, LogLevel.Information, "Round {Round}: Orders:Source={Source}; redis: worker rounds {Rounds}, orders placed {Placed}")]
    private partial void LogRound(int round, string? source, long rounds, long placed);

    [LoggerMessage(2, LogLevel.Warning, "Round {Round}: redis unreachable: {Message}")]
    private partial void LogRedisUnreachable(int round, string message);

    [LoggerMessage(3, LogLevel.Information, "Orders:Source reloaded: {Source}")]
    private partial void LogReloaded(string? source);

    [LoggerMessage(4, LogLevel.Information, "Stopped")]
    private partial void LogStopped();
}
