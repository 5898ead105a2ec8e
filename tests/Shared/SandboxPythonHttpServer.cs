using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing;

/// <summary>
/// Python's <c>http.server</c> (what <c>python3 -m http.server</c> runs) in a sandbox's services namespace, as an
/// in-cluster service of its own: HTTP/1.0, so it closes every connection right after its response. Killed on dispose.
/// </summary>
/// <remarks>
/// Three changes from <c>-m http.server</c> make it exact rather than a race. Its FIN leaves in the segment with the
/// last bytes of the response (corked until socketserver's shutdown), so a relay that lets the end fall behind those
/// bytes shows. Its listen backlog holds 20 clients, not 5. And it says <c>Connection: close</c>: HttpClient otherwise
/// keeps an HTTP/1.0 connection and hands it to a queued request before it has noticed the server's end, and that
/// request fails with "The response ended prematurely" in the pod itself too, the more often the longer connecting takes.
/// </remarks>
public sealed class SandboxPythonHttpServer : IAsyncDisposable
{
    private const string Script = """
        import functools, http.server, socket, sys

        class Handler(http.server.SimpleHTTPRequestHandler):
            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)

            def end_headers(self):
                self.send_header("Connection", "close")
                super().end_headers()

            def log_message(self, format, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 64

        # socketserver ends each connection with shutdown(SHUT_WR), which sends what the cork holds with the FIN.
        handler = functools.partial(Handler, directory=sys.argv[3])
        Server((sys.argv[1], int(sys.argv[2])), handler).serve_forever()
        """;

    private readonly Process _process;

    private SandboxPythonHttpServer(Process process, string hostName, int port)
    {
        _process = process;
        HostName = hostName;
        Port = port;
    }

    public string HostName { get; }

    public int Port { get; }

    /// <summary>Serves <paramref name="directory"/> at <paramref name="address"/>:<paramref name="port"/>, named <c>&lt;name&gt;.&lt;namespace&gt;.svc.cluster.local</c>.</summary>
    public static async Task<SandboxPythonHttpServer> StartAsync(PodSandbox sandbox, string name, IPAddress address, int port, string directory)
    {
        var info = new ProcessStartInfo("ip",
            ["netns", "exec", sandbox.ServicesNetworkNamespace, "/usr/bin/python3", "-c", Script, address.ToString(), port.ToString(CultureInfo.InvariantCulture), directory])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new SandboxPythonHttpServer(process, $"{name}.{sandbox.Namespace}.svc.cluster.local", port);
        try
        {
            await WaitUntilListeningAsync(sandbox, process, new IPEndPoint(address, port));
            await sandbox.AddServiceRecordAsync(server.HostName, address);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    private static async Task WaitUntilListeningAsync(PodSandbox sandbox, Process process, IPEndPoint endPoint)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var socket = sandbox.CreatePodSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endPoint);
                return;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(20) && !process.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
