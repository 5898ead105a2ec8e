using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// Usage: Agent.H2App NAME HOST PORT. Speaks only HTTP/2 without TLS (prior knowledge), like a gRPC server. Prints
// "ready PORT" once it listens. Every answer names the app, what it got, and the connection it came on:
//   /big?n=N     answers N bytes (byte i is i % 251), after reading the request body
//   /trailers    answers with trailers (grpc-status, x-got-len), as gRPC does
//   anything else: "NAME METHOD PATH dev=X len=N sha=S from=PORT proto=P"
// and writes "got METHOD PATH dev=X len=N sha=S" to its output for each request it served.
var (name, host, port) = (args[0], IPAddress.Parse(args[1]), int.Parse(args[2], CultureInfo.InvariantCulture));
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Limits.MaxRequestBodySize = null;
    kestrel.Listen(host, port, listen => listen.Protocols = HttpProtocols.Http2);
});
var app = builder.Build();
app.Run(async context =>
{
    var request = context.Request;
    var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    var sha = Convert.ToHexStringLower(SHA256.HashData(body.ToArray()))[..16];
    var seenDev = request.Headers["x-dev"].ToString();
    Console.WriteLine($"got {request.Method} {request.Path} dev={(seenDev.Length == 0 ? "-" : seenDev)} len={body.Length} sha={sha}");
    var response = context.Response;
    response.Headers["x-app"] = name;
    if (request.Path.StartsWithSegments("/big"))
    {
        var size = int.Parse(request.Query["n"].ToString(), CultureInfo.InvariantCulture);
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)(i % 251);
        }

        response.Headers["x-got"] = $"len={body.Length} sha={sha}";
        response.ContentLength = size;
        await response.Body.WriteAsync(bytes);
        return;
    }

    var dev = request.Headers["x-dev"].ToString();
    var text = $"{name} {request.Method} {request.Path}{request.QueryString} dev={(dev.Length == 0 ? "-" : dev)} len={body.Length} sha={sha} from={context.Connection.RemotePort} proto={request.Protocol}";
    if (request.Path.StartsWithSegments("/trailers"))
    {
        response.DeclareTrailer("grpc-status");
        response.DeclareTrailer("x-got-len");
        await response.WriteAsync(text);
        response.AppendTrailer("grpc-status", "0");
        response.AppendTrailer("x-got-len", body.Length.ToString(CultureInfo.InvariantCulture));
        return;
    }

    await response.WriteAsync(text);
});
await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"ready {new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port}");
await app.WaitForShutdownAsync();
