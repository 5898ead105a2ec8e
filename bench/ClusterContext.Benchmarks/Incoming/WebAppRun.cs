using System.Diagnostics;
using System.Globalization;

namespace ClusterContext.Benchmarks.Incoming;

/// <summary>The ASP.NET Core test app under the hook with a clustercontext.json, listening on http://localhost:PORT.</summary>
internal sealed class WebAppRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _errors;

    private WebAppRun(Process process)
    {
        _process = process;
        _errors = process.StandardError.ReadToEndAsync();
    }

    /// <param name="environment">Replaces the target (deployment/orders through the API) when it names an agent address.</param>
    public static async Task<WebAppRun> StartAsync(string kubeconfig, string directory, string configuration, int port, IReadOnlyDictionary<string, string>? environment = null)
    {
        var workingDirectory = Directory.CreateDirectory(Path.Combine(directory, $"app-{Guid.NewGuid():N}")).FullName;
        await File.WriteAllTextAsync(Path.Combine(workingDirectory, "clustercontext.json"), configuration);
        var info = new ProcessStartInfo("dotnet", [AppRuns.WebAppPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        info.Environment["DOTNET_STARTUP_HOOKS"] = AppRuns.HookPath;
        info.Environment["KUBECONFIG"] = kubeconfig;
        info.Environment["CLUSTERCONTEXT_TARGET"] = "deployment/orders";
        info.Environment["CLUSTERCONTEXT_REQUIRED"] = "true";
        info.Environment["ASPNETCORE_URLS"] = $"http://localhost:{port.ToString(CultureInfo.InvariantCulture)}";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        if (info.Environment.ContainsKey("CLUSTERCONTEXT_AGENT_ADDRESS"))
        {
            info.Environment.Remove("CLUSTERCONTEXT_TARGET");
        }

        var app = new WebAppRun(Process.Start(info)!);
        var clock = Stopwatch.StartNew();
        while (await app._process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) is { } line)
        {
            if (line.Contains("Now listening on:", StringComparison.Ordinal))
            {
                _ = app._process.StandardOutput.ReadToEndAsync();
                return app;
            }
        }

        await app._process.WaitForExitAsync();
        throw new InvalidOperationException($"The web app ended ({app._process.ExitCode}) before listening: {await app._errors}");
    }

    public async Task StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
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
