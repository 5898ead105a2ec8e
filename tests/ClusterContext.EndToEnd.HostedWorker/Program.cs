using System.Net.Sockets;
using ClusterContext;
using Microsoft.Extensions.Options;

// A developer's background worker with builder.UseClusterContext(): it prints what it sees as "name<TAB>value" lines
// (configuration, environment, the ConfigMap through IOptionsMonitor, the session, redis by name), then prints each
// change of the ConfigMap's Orders:Source as "reloaded<TAB>value" until it is stopped.
var builder = Host.CreateApplicationBuilder(args);
builder.UseClusterContext();
builder.Configuration.AddJsonFile("/etc/orders/appsettings.json", optional: true, reloadOnChange: true);
builder.Services.Configure<OrdersOptions>(builder.Configuration.GetSection("Orders"));
builder.Services.AddHostedService<Worker>();
builder.Build().Run();

internal sealed class OrdersOptions
{
    public string? Source { get; set; }
}

internal sealed class Worker(IConfiguration configuration, IOptionsMonitor<OrdersOptions> orders, IClusterContext context) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var changes = orders.OnChange(o => Console.WriteLine($"reloaded\t{o.Source}"));
        Console.WriteLine($"config\t{configuration["ORDERS_MODE"]}");
        Console.WriteLine($"env\t{Environment.GetEnvironmentVariable("ORDERS_MODE")}");
        Console.WriteLine($"orders\t{orders.CurrentValue.Source}");
        Console.WriteLine($"context\t{context.State} {context.PodNamespace}/{context.Pod} {context.Container}");
        string redis;
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("redis", 6379, stoppingToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), stoppingToken);
            var buffer = new byte[64];
            redis = System.Text.Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer, stoppingToken)).TrimEnd();
        }
        catch (SocketException ex)
        {
            redis = ex.Message;
        }

        Console.WriteLine($"redis\t{redis}");
        Console.WriteLine("ready\t");
        await Task.Delay(Timeout.Infinite, stoppingToken);
    }
}
