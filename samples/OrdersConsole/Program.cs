using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;

// An ordinary console app with no reference to ClusterContext. Run it as it is and it sees this machine; run it with
//   DOTNET_STARTUP_HOOKS=/path/to/ClusterContext.dll
// and it sees the pod: the pod's ORDERS_MODE, its mounted appsettings.json and secret, and the in-cluster services
// redis and web by their cluster names.
var configPath = Environment.GetEnvironmentVariable("ORDERS_CONFIG") ?? "/etc/orders/appsettings.json";
var secretPath = Environment.GetEnvironmentVariable("ORDERS_SECRET") ?? "/var/run/secrets/orders/password";
var redisHost = Environment.GetEnvironmentVariable("REDIS_HOST") ?? "redis";
var webUrl = Environment.GetEnvironmentVariable("WEB_URL") ?? "http://web:8080/";
var watch = args.Contains("--watch");

Console.WriteLine($"ORDERS_MODE          = {Environment.GetEnvironmentVariable("ORDERS_MODE") ?? "(not set)"}");

IConfigurationRoot? configuration = null;
if (File.Exists(configPath))
{
    configuration = new ConfigurationBuilder()
        .SetBasePath(Path.GetDirectoryName(configPath)!)
        .AddJsonFile(Path.GetFileName(configPath), optional: false, reloadOnChange: true)
        .Build();
    Console.WriteLine($"Orders:Source        = {configuration["Orders:Source"]}  (from {configPath})");
}
else
{
    Console.WriteLine($"Orders:Source        = (no {configPath} here)");
}

Console.WriteLine(File.Exists(secretPath)
    ? $"secret               = {File.ReadAllBytes(secretPath).Length} bytes  (from {secretPath})"
    : $"secret               = (no {secretPath} here)");

if (redisHost.Length == 0)
{
    Console.WriteLine("redis                = (REDIS_HOST is empty: not called)");
}
else
{
    await PingRedisAsync(redisHost);
}

if (webUrl.Length == 0)
{
    Console.WriteLine("web                  = (WEB_URL is empty: not called)");
}
else
{
    await GetWebAsync(webUrl);
}

if (watch && configuration is not null)
{
    Console.WriteLine("Watching the configuration; Ctrl+C to stop.");
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };
    using var subscription = Microsoft.Extensions.Primitives.ChangeToken.OnChange(configuration.GetReloadToken, () =>
        Console.WriteLine($"Orders:Source        = {configuration["Orders:Source"]}  (reloaded)"));
    await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
}

static async Task GetWebAsync(string url)
{
    try
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Console.WriteLine($"web                  = {(await http.GetStringAsync(url)).Trim()}  (GET {url})");
    }
    catch (HttpRequestException ex)
    {
        Console.WriteLine($"web                  = unreachable: {ex.Message}  (GET {url})");
    }
}

static async Task PingRedisAsync(string host)
{
    try
    {
        using var redis = new TcpClient();
        await redis.ConnectAsync(host, 6379);
        var stream = redis.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var reply = new byte[7];
        await stream.ReadExactlyAsync(reply);
        Console.WriteLine($"redis                = {Encoding.ASCII.GetString(reply).TrimEnd()}  (PING to {host}:6379)");
    }
    catch (SocketException ex)
    {
        Console.WriteLine($"redis                = unreachable: {ex.Message}  ({host}:6379)");
    }
}
