using System.Net.Sockets;
using ClusterContext;
using Microsoft.Extensions.Options;

// A developer's web service with builder.UseClusterContext(): the pod's ConfigMap as a reloading JSON file, its Secret
// folder as key-per-file configuration, and endpoints that show what the app sees (configuration, environment,
// options, the session, redis and web by name); every other path answers "hosted METHOD PATH".
var builder = WebApplication.CreateBuilder(args);
builder.UseClusterContext();
builder.Configuration.AddJsonFile("/etc/orders/appsettings.json", optional: true, reloadOnChange: true);
builder.Configuration.AddKeyPerFile("/var/run/secrets/orders", optional: true, reloadOnChange: true);
builder.Services.Configure<OrdersOptions>(builder.Configuration.GetSection("Orders"));
builder.Services.AddHealthChecks().AddClusterContext();
var app = builder.Build();

app.MapGet("/config", (string key, IConfiguration configuration) => configuration[key] ?? "(null)");
app.MapGet("/env", (string name) => Environment.GetEnvironmentVariable(name) ?? "(null)");
app.MapGet("/orders-source", (IOptionsMonitor<OrdersOptions> options) => options.CurrentValue.Source ?? "(null)");
app.MapGet("/context", (IClusterContext context) => $"{context.State} {context.PodNamespace}/{context.Pod} {context.Container}");
app.MapGet("/redis", async () =>
{
    using var client = new TcpClient();
    await client.ConnectAsync("redis", 6379);
    var stream = client.GetStream();
    await stream.WriteAsync("PING\r\n"u8.ToArray());
    var buffer = new byte[64];
    var read = await stream.ReadAsync(buffer);
    return System.Text.Encoding.ASCII.GetString(buffer, 0, read).TrimEnd();
});
app.MapGet("/web", async () =>
{
    using var client = new HttpClient();
    return await client.GetStringAsync("http://web:8080/");
});
app.MapHealthChecks("/health");
app.MapFallback("{**path}", (HttpRequest request) => $"hosted {request.Method} {request.Path}");
app.Run();

internal sealed class OrdersOptions
{
    public string? Source { get; set; }
}
