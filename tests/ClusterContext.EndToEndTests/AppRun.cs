using System.Diagnostics;

namespace ClusterContext.EndToEndTests;

/// <summary>The test app, run with ClusterContext only as a startup hook, and what it printed.</summary>
public sealed class AppRun
{
    private AppRun(int exitCode, Dictionary<string, string> results, string output)
    {
        ExitCode = exitCode;
        Results = results;
        Output = output;
    }

    public int ExitCode { get; }

    public Dictionary<string, string> Results { get; }

    public string Output { get; }

    public string this[string command] => Results.TryGetValue(command, out var value) ? value : throw new KeyNotFoundException($"No result for {command}. Output:{Environment.NewLine}{Output}");

    /// <summary>The hook as it is shipped: ClusterContext's own build folder, with its dependencies beside it.</summary>
    public static string HookPath => BuildOutput("src/ClusterContext", "ClusterContext.dll");

    /// <summary>The app in its own build folder, with its own (older) copies of shared packages.</summary>
    public static string AppPath => BuildOutput("tests/ClusterContext.EndToEnd.App", "ClusterContext.EndToEnd.App.dll");

    /// <summary>The ASP.NET Core app (Kestrel), unchanged from what a developer writes.</summary>
    public static string WebAppPath => BuildOutput("tests/ClusterContext.EndToEnd.WebApp", "ClusterContext.EndToEnd.WebApp.dll");

    /// <summary>The web app with builder.UseClusterContext().</summary>
    public static string HostedAppPath => BuildOutput("tests/ClusterContext.EndToEnd.HostedApp", "ClusterContext.EndToEnd.HostedApp.dll");

    /// <summary>The worker (generic host, no ASP.NET Core) with builder.UseClusterContext().</summary>
    public static string HostedWorkerPath => BuildOutput("tests/ClusterContext.EndToEnd.HostedWorker", "ClusterContext.EndToEnd.HostedWorker.dll");

    /// <summary>The app that uses ClusterContext as a library.</summary>
    public static string LibraryAppPath => BuildOutput("tests/ClusterContext.EndToEnd.LibraryApp", "ClusterContext.EndToEnd.LibraryApp.dll");

    /// <summary>The repository's root: the tests run from tests/ClusterContext.EndToEndTests/bin/&lt;configuration&gt;/&lt;framework&gt;/.</summary>
    public static string RepositoryRoot => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static string BuildOutput(string project, string file)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return Path.Combine(RepositoryRoot, project, "bin", output.Parent!.Name, output.Name, file);
    }

    /// <summary>Runs the app with <paramref name="commands"/>; <paramref name="environment"/> adds or overrides variables (null removes).</summary>
    public static async Task<AppRun> RunAsync(IReadOnlyDictionary<string, string?> environment, string? workingDirectory, params string[] commands) =>
        await StartAsync(environment, workingDirectory, commands).CompleteAsync();

    /// <summary>The in-cluster client app (the official C# client's in-cluster configuration).</summary>
    public static string InClusterAppPath => BuildOutput("tests/ClusterContext.EndToEnd.InClusterApp", "ClusterContext.EndToEnd.InClusterApp.dll");

    public static Running StartAsync(IReadOnlyDictionary<string, string?> environment, string? workingDirectory, params string[] commands) =>
        StartAppAsync(AppPath, environment, workingDirectory, commands);

    /// <summary>Starts the app <paramref name="app"/> (a dll) under the hook.</summary>
    public static Running StartAppAsync(string app, IReadOnlyDictionary<string, string?> environment, string? workingDirectory, params string[] commands)
    {
        var info = new ProcessStartInfo("dotnet", [app, .. commands])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        info.Environment["DOTNET_STARTUP_HOOKS"] = HookPath;
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        return new Running(Process.Start(info)!);
    }

    public sealed class Running(Process process)
    {
        private readonly Task<string> _errors = process.StandardError.ReadToEndAsync();
        private readonly List<string> _lines = [];

        public int Id => process.Id;

        /// <summary>Waits for the app's next result line.</summary>
        public async Task<string> NextLineAsync()
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) ?? throw new InvalidOperationException("The app ended.");
            _lines.Add(line);
            return line;
        }

        /// <summary>Kills the app outright (SIGKILL), as a crash or a stopped debugger would end it.</summary>
        public void Kill()
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }

        public async Task<AppRun> CompleteAsync()
        {
            using (process)
            {
                var rest = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
                _lines.AddRange(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                var results = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var line in _lines)
                {
                    var separator = line.IndexOf('\t', StringComparison.Ordinal);
                    if (separator > 0)
                    {
                        results[line[..separator]] = line[(separator + 1)..];
                    }
                }

                return new AppRun(process.ExitCode, results, string.Join(Environment.NewLine, _lines) + Environment.NewLine + await _errors);
            }
        }
    }
}
