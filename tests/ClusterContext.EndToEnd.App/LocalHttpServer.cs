using System.Net;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// An app's own HTTP/1.1 server on loopback, as a developer's local service would be: it answers every request on a
/// keep-alive connection with "BODY METHOD PATH" and the x-dev header it saw, until the resume file appears.
/// </summary>
internal static class LocalHttpServer
{
    // serve-http:[ADDRESS:]PORT|BODY|/resume-file: listens on ADDRESS:PORT (default 127.0.0.1); "listening" once it does,
    // then the number of requests it answered. With an address, it also serves as a pod's own keep-alive app.
    public static async Task<string> ServeAsync(string argument)
    {
        var parts = argument.Split('|');
        var endPoint = parts[0].Contains(':', StringComparison.Ordinal)
            ? IPEndPoint.Parse(parts[0])
            : new IPEndPoint(IPAddress.Loopback, int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture));
        var listener = new TcpListener(endPoint);
        listener.Start();
        Console.WriteLine($"serve-http\tlistening");
        Console.Out.Flush();
        var answered = 0;
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        Interlocked.Add(ref answered, await AnswerAsync(client.GetStream(), parts[1]));
                    }
                });
            }
        });
        while (!File.Exists(parts[2]))
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        listener.Stop();
        await accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        return answered.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<int> AnswerAsync(NetworkStream stream, string body)
    {
        var reader = new StreamReader(stream, Encoding.ASCII);
        var answered = 0;
        try
        {
            while (await reader.ReadLineAsync() is { Length: > 0 } requestLine)
            {
                var header = "";
                var length = 0;
                var close = false;
                while (await reader.ReadLineAsync() is { Length: > 0 } line)
                {
                    var name = line[..Math.Max(0, line.IndexOf(':', StringComparison.Ordinal))].Trim();
                    var value = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    header = name.Equals("x-dev", StringComparison.OrdinalIgnoreCase) ? value : header;
                    length = name.Equals("content-length", StringComparison.OrdinalIgnoreCase) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : length;
                    close |= name.Equals("connection", StringComparison.OrdinalIgnoreCase) && value.Equals("close", StringComparison.OrdinalIgnoreCase);
                }

                var content = new char[length];
                for (var read = 0; read < length;)
                {
                    read += await reader.ReadAsync(content.AsMemory(read));
                }

                var request = requestLine.Split(' ');
                var text = $"{body} {request[0]} {request[1]} x-dev={header}";
                var answer = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.UTF8.GetByteCount(text)}\r\n{(close ? "Connection: close\r\n" : "")}\r\n{text}";
                await stream.WriteAsync(Encoding.UTF8.GetBytes(answer));
                answered++;
                if (close)
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // The client left.
        }

        return answered;
    }
}
