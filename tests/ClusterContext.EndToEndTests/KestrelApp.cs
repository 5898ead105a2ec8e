using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The ASP.NET Core test app under the hook, configured only by a clustercontext.json in its working directory and
/// ASPNETCORE_URLS, as a developer runs it; its output lines are kept as they come. Killed (by its pid) on dispose.
/// </summary>
internal sealed class KestrelApp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly string _directory;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private KestrelApp(Process process, string directory)
    {
        _process = process;
        _directory = directory;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join(Environment.NewLine, _lines);
            }
        }
    }

    /// <summary>The paths of the requests the app printed (PrintRequests=true).</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines.Where(l => l.StartsWith("request\t", StringComparison.Ordinal)).Select(l => l["request\t".Length..])];
            }
        }
    }

    /// <summary>
    /// Starts the app listening on http://localhost:PORT for each of <paramref name="ports"/> with
    /// <paramref name="configuration"/> as its clustercontext.json, and waits until Kestrel says it listens (by then
    /// the hook has subscribed the mapped pod ports).
    /// </summary>
    public static async Task<KestrelApp> StartAsync(string kubeconfig, string configuration, IReadOnlyList<int> ports, bool printRequests = false)
    {
        var directory = Directory.CreateTempSubdirectory("clustercontext-e2e-kestrel-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"), configuration);
        var info = new ProcessStartInfo("dotnet", [AppRun.WebAppPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        info.Environment["DOTNET_STARTUP_HOOKS"] = AppRun.HookPath;
        info.Environment["KUBECONFIG"] = kubeconfig;
        info.Environment["CLUSTERCONTEXT_TARGET"] = "deployment/orders";
        info.Environment["CLUSTERCONTEXT_REQUIRED"] = "true";
        info.Environment["ASPNETCORE_URLS"] = string.Join(';', ports.Select(p => $"http://localhost:{p}"));
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["PrintRequests"] = printRequests ? "true" : "false";
        info.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        var app = new KestrelApp(Process.Start(info)!, directory);
        try
        {
            foreach (var port in ports)
            {
                await app.WaitForLineAsync(l => l.Contains($"Now listening on: http://localhost:{port}", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            }

            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts <paramref name="info"/> (its output redirected) and keeps its lines; <paramref name="directory"/> is deleted on dispose.</summary>
    public static KestrelApp Launch(ProcessStartInfo info, string directory) => new(Process.Start(info)!, directory);

    /// <summary>A loopback port free on both 127.0.0.1 and ::1 now (Kestrel's localhost binds both).</summary>
    public static int FreePort()
    {
        while (true)
        {
            using var v4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            v4.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)v4.LocalEndPoint!).Port;
            using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                v6.Bind(new IPEndPoint(IPAddress.IPv6Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken on ::1: another one.
            }
        }
    }

    /// <summary>Waits until some line the app wrote matches <paramref name="match"/>.</summary>
    public async Task WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_lines)
            {
                if (_lines.Any(match))
                {
                    return;
                }

                changed = _changed.Task;
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app exited ({_process.ExitCode}):{Environment.NewLine}{Output}");
            }

            if (deadline.Elapsed >= timeout)
            {
                throw new TimeoutException($"No such line within {timeout.TotalSeconds:0} s. The app wrote:{Environment.NewLine}{Output}");
            }

            // Woken by the next line, or after a while to see whether the app has exited meanwhile.
            await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(500)));
        }
    }

    /// <summary>Asks the app to stop (SIGTERM, as Ctrl+C or a container stop) and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>Kills the app outright (SIGKILL), as a crash or a stopped debugger ends it.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.SetResult();
        }
    }
}
