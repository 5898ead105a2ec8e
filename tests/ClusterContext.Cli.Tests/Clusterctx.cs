using System.Diagnostics;
using System.Globalization;

namespace ClusterContext.Cli.Tests;

/// <summary>
/// clusterctx as a user runs it: <c>dotnet clusterctx.dll</c> from the tool's own build folder (the hook beside it),
/// with a kubeconfig and a runtime folder (<c>XDG_RUNTIME_DIR</c>, so its session hosts are the test's own).
/// </summary>
public sealed class Clusterctx(string kubeconfig, string runtime)
{
    /// <summary>The repository's root: the tests run from tests/ClusterContext.Cli.Tests/bin/&lt;configuration&gt;/&lt;framework&gt;/.</summary>
    public static string RepositoryRoot => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static string BuildOutput(string project, string file)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return Path.Combine(RepositoryRoot, project, "bin", output.Parent!.Name, output.Name, file);
    }

    public static string ToolPath => BuildOutput("src/ClusterContext.Cli", "clusterctx.dll");

    /// <summary>The hook the tool carries (its hook/ folder).</summary>
    public static string HookPath => BuildOutput("src/ClusterContext.Cli", "hook/ClusterContext.dll");

    public static string AppPath => BuildOutput("tests/ClusterContext.EndToEnd.App", "ClusterContext.EndToEnd.App.dll");

    /// <summary>An unchanged ASP.NET Core app: every path answers "kestrel METHOD PATH x-dev=VALUE".</summary>
    public static string WebAppPath => BuildOutput("tests/ClusterContext.EndToEnd.WebApp", "ClusterContext.EndToEnd.WebApp.dll");

    public string Runtime => runtime;

    /// <summary>The session hosts' folder.</summary>
    public string Sessions => Path.Combine(runtime, "clustercontext");

    /// <summary>The variables every run gets: the cluster, the test's own session folder, no linger (nothing stays after a test).</summary>
    public Dictionary<string, string?> Environment() => new()
    {
        ["KUBECONFIG"] = kubeconfig,
        ["XDG_RUNTIME_DIR"] = runtime,
        ["CLUSTERCONTEXT_SESSION_LINGER"] = "0",
        ["DOTNET_STARTUP_HOOKS"] = null,
    };

    public Task<Result> RunAsync(params string[] arguments) => RunAsync(null, null, arguments);

    public async Task<Result> RunAsync(IReadOnlyDictionary<string, string?>? environment, string? workingDirectory, params string[] arguments)
    {
        var running = Start(environment, workingDirectory, arguments);
        return await running.CompleteAsync();
    }

    /// <summary>
    /// Starts clusterctx with SIGINT and SIGQUIT at their defaults, as a terminal starts it: a test run started in the
    /// background (<c>.ci/run &amp;</c>) ignores them, and ignored signals pass to every child, so a Ctrl+C sent by a
    /// test would reach nothing. <c>env</c> resets them and replaces itself with clusterctx (same process id).
    /// </summary>
    public Running Start(IReadOnlyDictionary<string, string?>? environment, string? workingDirectory, params string[] arguments) =>
        new(Process.Start(StartInfo("env", ["--default-signal=INT,QUIT", "dotnet", ToolPath, .. arguments], environment, workingDirectory))!);

    public ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment, string? workingDirectory)
    {
        var info = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? runtime,
        };
        foreach (var (name, value) in Environment().Concat(environment ?? new Dictionary<string, string?>()))
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

        return info;
    }

    /// <summary>What a finished command printed and its exit code.</summary>
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"exit {ExitCode}{System.Environment.NewLine}stdout:{System.Environment.NewLine}{Output}{System.Environment.NewLine}stderr:{System.Environment.NewLine}{Error}");
    }

    public sealed class Running
    {
        private readonly Process _process;
        private readonly Task<string> _errors;
        private readonly List<string> _lines = [];
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Running(Process process)
        {
            _process = process;
            _process.StandardInput.Close();
            _errors = process.StandardError.ReadToEndAsync();
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    _ended.TrySetResult();
                    return;
                }

                lock (_lines)
                {
                    _lines.Add(e.Data);
                }
            };
            _process.BeginOutputReadLine();
        }

        public int Id => _process.Id;

        /// <summary>Waits until the program printed <paramref name="line"/>.</summary>
        public Task WaitForLineAsync(string line, TimeSpan? timeout = null) => WaitForLineAsync(l => l == line, line, timeout);

        /// <summary>Waits until the program printed a line that <paramref name="match"/> accepts.</summary>
        public async Task WaitForLineAsync(Func<string, bool> match, string what, TimeSpan? timeout = null)
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                lock (_lines)
                {
                    if (_lines.Exists(l => match(l)))
                    {
                        return;
                    }
                }

                if (_process.HasExited || deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
                {
                    var result = await CompleteAsync();
                    throw new InvalidOperationException($"'{what}' did not come: {result}");
                }

                await Task.Delay(20);
            }
        }

        /// <summary>Sends <paramref name="signal"/> (TERM, INT) to clusterctx itself, as kill(1) does.</summary>
        public async Task SignalAsync(string signal)
        {
            using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        public async Task<Result> CompleteAsync()
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(180));
            await _ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
            string output;
            lock (_lines)
            {
                output = string.Join("\n", _lines);
            }

            return new Result(_process.ExitCode, output, await _errors);
        }
    }
}
