using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing;

/// <summary>
/// <c>python3 -m http.server</c> in a sandbox's services namespace, as an in-cluster service of its own: HTTP/1.0, so
/// it closes every connection right after its response. Killed on dispose.
/// </summary>
public sealed class SandboxPythonHttpServer : IAsyncDisposable
{
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
            ["netns", "exec", sandbox.ServicesNetworkNamespace, "/usr/bin/python3", "-m", "http.server", port.ToString(CultureInfo.InvariantCulture),
                "--bind", address.ToString(), "--directory", directory])
        {
            // It logs every request to stderr; that is not news here.
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
