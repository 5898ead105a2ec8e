using System.Net.WebSockets;

// A developer's web service: every path answers "kestrel METHOD PATH x-dev=VALUE"; /ws echoes WebSocket messages;
// /count says how many requests it answered. With PrintRequests=true it prints "request<TAB>METHOD PATH" for each.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
var printRequests = app.Configuration.GetValue<bool>("PrintRequests");
var answered = 0L;

app.UseWebSockets();
app.Map("/ws", async context =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[64 * 1024];
    while (true)
    {
        var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
        if (received.MessageType == WebSocketMessageType.Close)
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
            return;
        }

        await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
    }
});
app.MapGet("/count", () => Interlocked.Read(ref answered).ToString(System.Globalization.CultureInfo.InvariantCulture));
app.MapFallback("{**path}", async context =>
{
    Interlocked.Increment(ref answered);
    var request = context.Request;
    if (printRequests)
    {
        Console.WriteLine($"request\t{request.Method} {request.Path}{request.QueryString}");
    }

    await context.Response.WriteAsync($"kestrel {request.Method} {request.Path}{request.QueryString} x-dev={request.Headers["x-dev"]}");
});

app.Run();
