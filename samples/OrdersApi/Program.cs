using OrdersApi;
using StackExchange.Redis;

// The orders service, as it runs in deployment/orders: its options in the ConfigMap file /etc/orders/appsettings.json,
// its password in the Secret folder /var/run/secrets/orders, redis and web by their cluster names. In Development,
// builder.UseClusterContext() (options in appsettings.Development.json) runs it here in the pod's context.
var builder = WebApplication.CreateBuilder(args);
builder.UseClusterContext();

// After UseClusterContext(): these read the pod's files, and an edit of the ConfigMap reaches IOptionsMonitor.
builder.Configuration.AddJsonFile("/etc/orders/appsettings.json", optional: true, reloadOnChange: true);
builder.Configuration.AddKeyPerFile("/var/run/secrets/orders", optional: true, reloadOnChange: true);

builder.Services.Configure<OrdersOptions>(builder.Configuration.GetSection(OrdersOptions.Section));
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(builder.Configuration["Redis"] ?? "redis:6379,abortConnect=false"));
builder.Services.AddHttpClient<WebClient>(client => client.BaseAddress = new Uri(builder.Configuration["WebUrl"] ?? "http://web:8080/"));
builder.Services.AddHealthChecks().AddClusterContext();

var app = builder.Build();
app.MapGet("/orders/summary", OrdersEndpoints.SummaryAsync);
app.MapPost("/orders/{id}", OrdersEndpoints.PlaceAsync);
app.MapGet("/orders/{id}", OrdersEndpoints.GetAsync);
app.MapHealthChecks("/health");
app.Run();

/// <summary>The entry point, for WebApplicationFactory in OrdersApi.Tests.</summary>
public partial class Program;
