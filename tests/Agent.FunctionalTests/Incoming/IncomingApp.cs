using System.Diagnostics;
using System.Globalization;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>A real HTTP/1.1 server (Python's http.server, keep-alive) that names itself in every answer: the pod's original app or a session's local app.</summary>
public sealed class IncomingApp : IAsyncDisposable
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Incoming", "incoming_app.py");
    private readonly Process _process;

    private IncomingApp(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The pod's own app, on <paramref name="port"/> of every address of the pod's network namespace.</summary>
    public static Task<IncomingApp> StartInPodAsync(PodSandbox sandbox, string name, int port) =>
        WaitReadyAsync(sandbox.StartInPod("python3", [Script, name, "0.0.0.0", port.ToString(CultureInfo.InvariantCulture)], Redirect));

    /// <summary>A session's local app, on a free loopback port of this host.</summary>
    public static Task<IncomingApp> StartLocalAsync(string name)
    {
        var info = new ProcessStartInfo("python3", [Script, name, "127.0.0.1", "0"]);
        Redirect(info);
        return WaitReadyAsync(Process.Start(info)!);
    }

    private static void Redirect(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
    }

    private static async Task<IncomingApp> WaitReadyAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("ready ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"The test app did not start: '{line}'.");
        }

        return new IncomingApp(process, int.Parse(line.AsSpan(6), CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
