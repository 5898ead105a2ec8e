using OrdersWorker;
using StackExchange.Redis;

// The orders queue worker, as it runs in deployment/orders: a BackgroundService that reads its options from the
// ConfigMap file and counts the orders in redis. In Development, builder.UseClusterContext() (options in
// appsettings.Development.json) runs it here in the pod's context.
var builder = Host.CreateApplicationBuilder(args);
builder.UseClusterContext();
builder.Configuration.AddJsonFile("/etc/orders/appsettings.json", optional: true, reloadOnChange: true);
builder.Services.Configure<OrdersOptions>(builder.Configuration.GetSection(OrdersOptions.Section));
builder.Services.Configure<WorkerOptions>(builder.Configuration.GetSection(WorkerOptions.Section));
builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(builder.Configuration["Redis"] ?? "redis:6379,abortConnect=false"));
builder.Services.AddHostedService<OrdersCounter>();
builder.Build().Run();
