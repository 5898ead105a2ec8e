// A minimal API as a developer writes it, tested through WebApplicationFactory with the fixture: nothing here knows
// about ClusterContext. ORDERS_MODE also comes from appsettings.json ("local"): the pod's value must win.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.MapGet("/mode", (IConfiguration configuration) => configuration["ORDERS_MODE"] ?? "(none)");
app.MapGet("/file", () => File.ReadAllText("/var/run/secrets/orders/password"));
app.MapGet("/redis", async () =>
{
    using var client = new System.Net.Sockets.TcpClient();
    await client.ConnectAsync("redis", 6379);
    var stream = client.GetStream();
    await stream.WriteAsync("PING\r\n"u8.ToArray());
    var buffer = new byte[64];
    var read = await stream.ReadAsync(buffer);
    return System.Text.Encoding.ASCII.GetString(buffer, 0, read).TrimEnd();
});

app.Run();

/// <summary>The entry point WebApplicationFactory names.</summary>
public partial class Program;
