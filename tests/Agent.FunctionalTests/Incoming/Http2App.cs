using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ClusterContext.Agent.FunctionalTests.Incoming.Redirect;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>A real HTTP/2 server (Kestrel, h2c with prior knowledge only; tests/Agent.H2App) that names itself in every answer and lists what it served.</summary>
public sealed class Http2App : IAsyncDisposable
{
    private readonly Process _process;

    private Http2App(Process process, int port)
    {
        _process = process;
        Port = port;
        _ = CollectAsync();
    }

    public int Port { get; }

    /// <summary>"got METHOD PATH dev=X len=N sha=S" for each request served, in order.</summary>
    public ConcurrentQueue<string> Served { get; } = new();

    /// <summary>tests/Agent.H2App/bin/&lt;configuration&gt;/&lt;framework&gt;/Agent.H2App.dll, beside this test project's output.</summary>
    private static string Assembly
    {
        get
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            var tests = output.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(tests, "Agent.H2App", "bin", output.Parent.Name, output.Name, "Agent.H2App.dll");
        }
    }

    /// <summary>The pod's own app, on <paramref name="port"/> of every address of the pod's network namespace.</summary>
    public static Task<Http2App> StartInPodAsync(PodSandbox sandbox, string name, int port) =>
        WaitReadyAsync(sandbox.StartInPod(RedirectProbe.DotnetHost, [Assembly, name, "0.0.0.0", port.ToString(CultureInfo.InvariantCulture)], Redirect));

    /// <summary>A session's local app, on a free loopback port of this host.</summary>
    public static Task<Http2App> StartLocalAsync(string name)
    {
        var info = new ProcessStartInfo(RedirectProbe.DotnetHost, [Assembly, name, "127.0.0.1", "0"]);
        Redirect(info);
        return WaitReadyAsync(Process.Start(info)!);
    }

    public async Task WaitServedAsync(Func<string, bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!Served.Any(condition))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"The app never served the expected request; it served:{Environment.NewLine}{string.Join(Environment.NewLine, Served)}");
            }

            await Task.Delay(20);
        }
    }

    private static void Redirect(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
    }

    private static async Task<Http2App> WaitReadyAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("ready ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"The HTTP/2 test app did not start: '{line}'.");
        }

        return new Http2App(process, int.Parse(line.AsSpan(6), CultureInfo.InvariantCulture));
    }

    private async Task CollectAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            Served.Enqueue(line);
        }
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
