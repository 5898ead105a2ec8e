using Microsoft.Extensions.Configuration;
using System.Net;
using System.Net.Sockets;
using System.Text;

// Runs the operations named on the command line and prints one line for each, so that tests can
// check what an unmodified app sees, as "command<TAB>result". Errors print as "!ExceptionType: message".
foreach (var command in args)
{
    var separator = command.IndexOf(':', StringComparison.Ordinal);
    var (verb, argument) = separator < 0 ? (command, "") : (command[..separator], command[(separator + 1)..]);
    string result;
    try
    {
        result = await RunAsync(verb, argument);
    }
    catch (Exception ex)
    {
        result = ex.InnerException is { } inner ? $"!{ex.GetType().Name}: {ex.Message} ({inner.GetType().Name}: {inner.Message})" : $"!{ex.GetType().Name}: {ex.Message}";
    }

    Console.WriteLine($"{command}\t{result.Replace("\n", "\\n", StringComparison.Ordinal)}");
    Console.Out.Flush();
}

static async Task<string> RunAsync(string verb, string argument) => verb switch
{
    "env" => Environment.GetEnvironmentVariable(argument) ?? "<unset>",
    "read" => File.ReadAllText(argument),
    "read-bytes" => Convert.ToHexString(File.ReadAllBytes(argument)).Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
    "read-async" => await File.ReadAllTextAsync(argument),
    "read-bytes-async" => (await File.ReadAllBytesAsync(argument)).Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
    "stream" => await new StreamReader(new FileStream(argument, FileMode.Open, FileAccess.Read)).ReadToEndAsync(),
    "reader" => await new StreamReader(argument).ReadToEndAsync(),
    "exists" => File.Exists(argument).ToString(),
    "dir-exists" => Directory.Exists(argument).ToString(),
    "info" => new FileInfo(argument) is var info && info.Exists ? $"{info.Length}" : "missing",
    "mtime" => new FileInfo(argument).LastWriteTimeUtc.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    "list" => string.Join(",", Directory.EnumerateFiles(argument).Select(Path.GetFileName).Order()),
    "getfiles" => string.Join(",", Directory.GetFiles(argument).Select(Path.GetFileName).Order()),
    "handle" => ReadWithHandle(argument),
    "write" => Write(argument),
    "dns" => string.Join(",", Dns.GetHostAddresses(argument).Select(a => a.ToString())),
    "dns-async" => string.Join(",", (await Dns.GetHostAddressesAsync(argument)).Select(a => a.ToString())),
    "redis" => await RedisPingAsync(argument),
    "redis-sync" => RedisPing(argument),
    "pause" => await PauseAsync(argument),
    "idle" => await IdleAsync(argument),
    "config-reload" => await ConfigReloadAsync(argument),
    "http" => await HttpGetAsync(argument),
    "https-any-cert" => await HttpsGetAcceptingAnyCertificateAsync(argument),
    "logging-version" => typeof(Microsoft.Extensions.Logging.ILogger).Assembly.GetName().Version!.ToString(),
    "udp-dns" => UdpDnsQuery(argument, connected: false),
    "udp-dns-connected" => UdpDnsQuery(argument, connected: true),
    "udp-dns-async" => await UdpDnsQueryAsync(argument),
    "time-open" => TimeEach(argument, path => File.OpenHandle(path).Dispose()),
    "time-read" => TimeEach(argument, path => File.ReadAllText(path)),
    "time-dns" => TimeEach(argument, name => Dns.GetHostAddresses(name)),
    "time-http" => await TimeHttpAsync(argument),
    "http-parallel" => await HttpParallelAsync(argument),
    "stress" => Stress(int.Parse(argument, System.Globalization.CultureInfo.InvariantCulture)),
    "exists-count" => ExistsCount(argument),
    "redis-env" => await Peers.RedisPingAtAsync(argument),
    "peers" => await Peers.ReportAsync(argument),
    "udp-source" => await Peers.UdpSourceAsync(argument),
    "connect-outcomes" => await Peers.ConnectOutcomesAsync(argument),
    "serve-http" => await LocalHttpServer.ServeAsync(argument),
    "child" => await ChildAsync(argument),
    _ => throw new ArgumentException($"unknown command {verb}"),
};

static string ExistsCount(string argument)
{
    // exists-count:PATH|N: File.Exists(PATH) N times from two threads; how many said true, and the first call that did not.
    var (path, count) = (argument[..argument.IndexOf('|', StringComparison.Ordinal)], int.Parse(argument[(argument.IndexOf('|', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    var found = 0;
    var firstMiss = int.MaxValue;
    var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
    {
        for (var i = t; i < count; i += 2)
        {
            if (File.Exists(path))
            {
                Interlocked.Increment(ref found);
            }
            else
            {
                InterlockedMin(ref firstMiss, i);
            }
        }
    })).ToList();
    threads.ForEach(t => t.Start());
    threads.ForEach(t => t.Join());
    return $"{found}/{count} first-miss={(firstMiss == int.MaxValue ? "none" : firstMiss.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
}

static void InterlockedMin(ref int location, int value)
{
    var current = Volatile.Read(ref location);
    while (value < current)
    {
        var seen = Interlocked.CompareExchange(ref location, value, current);
        if (seen == current)
        {
            return;
        }

        current = seen;
    }
}

static string ReadWithHandle(string path)
{
    using var handle = File.OpenHandle(path);
    var buffer = new byte[RandomAccess.GetLength(handle)];
    var read = RandomAccess.Read(handle, buffer, 0);
    return Encoding.UTF8.GetString(buffer, 0, read);
}

static string Write(string argument)
{
    var (path, text) = (argument[..argument.IndexOf('=', StringComparison.Ordinal)], argument[(argument.IndexOf('=', StringComparison.Ordinal) + 1)..]);
    File.WriteAllText(path, text);
    return File.ReadAllText(path);
}

static async Task<string> RedisPingAsync(string host)
{
    using var client = new TcpClient();
    await client.ConnectAsync(host, 6379);
    var stream = client.GetStream();
    await stream.WriteAsync("PING\r\n"u8.ToArray());
    var reply = new byte[7];
    await stream.ReadExactlyAsync(reply);
    return Encoding.ASCII.GetString(reply).TrimEnd();
}

static string RedisPing(string host)
{
    using var client = new TcpClient();
    client.Connect(host, 6379);
    var stream = client.GetStream();
    stream.Write("PING\r\n"u8);
    var reply = new byte[7];
    stream.ReadExactly(reply);
    return Encoding.ASCII.GetString(reply).TrimEnd();
}

static async Task<string> IdleAsync(string seconds)
{
    // Does nothing for that long (no polling of its own): what the process costs at rest.
    await Task.Delay(TimeSpan.FromSeconds(double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)));
    return "idle";
}

static async Task<string> PauseAsync(string path)
{
    // Lets a test change the world (stop the agent, edit a pod file) between two commands.
    Console.Out.Flush();
    for (var i = 0; i < 600 && !File.Exists(path); i++)
    {
        await Task.Delay(50);
    }

    return File.Exists(path) ? "resumed" : "timed out";
}

static async Task<string> ConfigReloadAsync(string argument)
{
    // config-reload:/dir/file.json|Section:Key|/resume-file: the value now, then the value after a change, and how long it took.
    var parts = argument.Split('|');
    var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
        .SetBasePath(Path.GetDirectoryName(parts[0])!)
        .AddJsonFile(Path.GetFileName(parts[0]), optional: false, reloadOnChange: true)
        .Build();
    var before = configuration[parts[1]];
    Console.WriteLine($"config-initial\t{before}");
    Console.Out.Flush();
    await PauseAsync(parts[2]);
    var clock = System.Diagnostics.Stopwatch.StartNew();
    while (configuration[parts[1]] == before && clock.Elapsed < TimeSpan.FromSeconds(10))
    {
        await Task.Delay(20);
    }

    return $"{configuration[parts[1]]} after {clock.ElapsedMilliseconds} ms";
}

static async Task<string> HttpsGetAcceptingAnyCertificateAsync(string url)
{
    // TLS (SslStream inside SocketsHttpHandler) over whatever connection the socket layer made.
    using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
    using var client = new HttpClient(handler);
    return await client.GetStringAsync(new Uri(url));
}

static async Task<string> HttpGetAsync(string url)
{
    using var client = new HttpClient();
    return await client.GetStringAsync(new Uri(url));
}

static string Stress(int calls)
{
    // Many passes through the file and socket hooks (local paths, a closed loopback port) to show they hold.
    var local = Path.GetTempFileName();
    var exists = 0;
    var refused = 0;
    var closed = new IPEndPoint(IPAddress.Loopback, 9);
    for (var i = 0; i < calls; i++)
    {
        exists += File.Exists(local) ? 1 : 0;
        if (i % 5 == 0)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Connect(closed);
            }
            catch (SocketException)
            {
                refused++;
            }
        }
    }

    File.Delete(local);
    return $"{exists} exists, {refused} refused";
}

static string TimeEach(string argument, Action<string> operation)
{
    // time-xxx:<count>:<path>: nanoseconds per operation, after a warm-up of a tenth as many.
    var separator = argument.IndexOf(':', StringComparison.Ordinal);
    var count = int.Parse(argument[..separator], System.Globalization.CultureInfo.InvariantCulture);
    var path = argument[(separator + 1)..];
    for (var i = 0; i < count / 10; i++)
    {
        operation(path);
    }

    var clock = System.Diagnostics.Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        operation(path);
    }

    return (clock.Elapsed.TotalNanoseconds / count).ToString("0", System.Globalization.CultureInfo.InvariantCulture);
}

static async Task<string> TimeHttpAsync(string argument)
{
    // time-http:<count>:<url>: microseconds per request (the test service closes each connection, so each request connects).
    var separator = argument.IndexOf(':', StringComparison.Ordinal);
    var count = int.Parse(argument[..separator], System.Globalization.CultureInfo.InvariantCulture);
    var url = new Uri(argument[(separator + 1)..]);
    using var client = new HttpClient();
    for (var i = 0; i < count / 10; i++)
    {
        await client.GetStringAsync(url);
    }

    var clock = System.Diagnostics.Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        await client.GetStringAsync(url);
    }

    return (clock.Elapsed.TotalMicroseconds / count).ToString("0", System.Globalization.CultureInfo.InvariantCulture);
}

static async Task<string> HttpParallelAsync(string argument)
{
    // http-parallel:<count>:<parallel>:<url>: GETs on one HttpClient, so many at a time; how many succeeded, and the first failure.
    var parts = argument.Split(':', 3);
    var count = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
    var parallel = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    var url = new Uri(parts[2]);
    using var client = new HttpClient();
    var succeeded = 0;
    var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
    await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (_, ct) =>
    {
        try
        {
            using var response = await client.GetAsync(url, ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            response.EnsureSuccessStatusCode();
            Interlocked.Increment(ref succeeded);
        }
        catch (Exception ex)
        {
            var inner = ex.InnerException;
            failures.Enqueue($"{ex.GetType().Name}: {ex.Message}" + (inner is null ? "" : $" ({inner.GetType().Name}: {inner.Message}{(inner.InnerException is { } root ? $" ({root.GetType().Name}: {root.Message})" : "")})"));
        }
    });

    var kinds = string.Join("; ", failures.GroupBy(f => f).Select(g => $"{g.Count()} x {g.Key}"));
    return $"{succeeded} of {count} succeeded" + (failures.IsEmpty ? "" : $"; {failures.Count} failed: {kinds}");
}

static async Task<string> UdpDnsQueryAsync(string argument)
{
    var (server, name) = (argument[..argument.IndexOf('|', StringComparison.Ordinal)], argument[(argument.IndexOf('|', StringComparison.Ordinal) + 1)..]);
    var query = DnsQuery(name);
    using var client = new UdpClient();
    await client.SendAsync(query, query.Length, new IPEndPoint(IPAddress.Parse(server), 53));
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
    var answer = (await client.ReceiveAsync(timeout.Token)).Buffer;
    return answer[0] == 0x12 && answer[1] == 0x34 ? new IPAddress(answer[^4..]).ToString() : "bad reply";
}

static byte[] DnsQuery(string name)
{
    var query = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    foreach (var label in name.Split('.'))
    {
        query.Add((byte)label.Length);
        query.AddRange(Encoding.ASCII.GetBytes(label));
    }

    query.AddRange([0, 0, 1, 0, 1]);
    return [.. query];
}

static string UdpDnsQuery(string argument, bool connected)
{
    // udp-dns:<server-ip>|<name>: asks the server for the name's A record over UDP and prints the first address.
    var (server, name) = (argument[..argument.IndexOf('|', StringComparison.Ordinal)], argument[(argument.IndexOf('|', StringComparison.Ordinal) + 1)..]);
    var query = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    foreach (var label in name.Split('.'))
    {
        query.Add((byte)label.Length);
        query.AddRange(Encoding.ASCII.GetBytes(label));
    }

    query.AddRange([0, 0, 1, 0, 1]);
    using var client = new UdpClient();
    client.Client.ReceiveTimeout = 5000;
    var endPoint = new IPEndPoint(IPAddress.Parse(server), 53);
    if (connected)
    {
        client.Connect(endPoint);
        client.Send([.. query], query.Count);
    }
    else
    {
        client.Send([.. query], query.Count, endPoint);
    }

    IPEndPoint? from = null;
    var answer = client.Receive(ref from);
    // The last four bytes of a single-answer A response are the address.
    return answer[0] == 0x12 && answer[1] == 0x34 ? new IPAddress(answer[^4..]).ToString() : "bad reply";
}

// A program the app starts (a shell, curl): what it prints, as the app's Process.Start gets it.
static async Task<string> ChildAsync(string script)
{
    var info = new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", script]) { RedirectStandardOutput = true };
    using var child = System.Diagnostics.Process.Start(info)!;
    var output = await child.StandardOutput.ReadToEndAsync();
    await child.WaitForExitAsync();
    return output.TrimEnd('\n').Replace('\n', '|');
}
