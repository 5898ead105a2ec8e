using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace ClusterContext.Testing;

/// <summary>
/// A real clusterctx-agent process, started from the agent build copied next to the test assembly. Its log lines are
/// kept so tests can assert on them; it is killed (by its pid) when disposed.
/// </summary>
public sealed partial class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _log = [];
    private readonly TaskCompletionSource<IPEndPoint> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AgentProcess(Process process, Action<bool, string>? output)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, isError: false, output);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, isError: true, output);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// The agent's main assembly in its own build folder (src/Agent/bin/&lt;configuration&gt;/&lt;framework&gt;), as it ships,
    /// so a test project's own dependencies (e.g. the ASP.NET Core shared framework) do not change what the agent
    /// loads; else the copy of that folder in sandbox-agent/ beside this program (an installed clusterctx).
    /// </summary>
    public static string AgentAssembly
    {
        get
        {
            // Test projects run from tests/<project>/bin/<configuration>/<framework>/.
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            var root = output.Parent?.Parent?.Parent?.Parent?.Parent?.FullName;
            var own = root is null ? null : Path.Combine(root, "src", "Agent", "bin", output.Parent!.Name, output.Name, "clusterctx-agent.dll");
            return own is not null && File.Exists(own) ? own : Path.Combine(AppContext.BaseDirectory, "sandbox-agent", "clusterctx-agent.dll");
        }
    }

    /// <summary>
    /// The agent compiled ahead of time (Native AOT), as the image ships it: <c>aot/clusterctx-agent</c> beside
    /// <see cref="AgentAssembly"/> (<c>./build.sh test</c> publishes it there); null when it was not published, or
    /// when the agent was built again since (a stale native agent would run yesterday's code).
    /// </summary>
    public static string? NativeAgent
    {
        get
        {
            var assembly = AgentAssembly;
            var native = Path.Combine(Path.GetDirectoryName(assembly)!, "aot", "clusterctx-agent");
            return File.Exists(native) && File.GetLastWriteTimeUtc(native) >= File.GetLastWriteTimeUtc(assembly) ? native : null;
        }
    }

    /// <summary>The address the agent reported it listens on.</summary>
    public IPEndPoint EndPoint => _listening.Task.Result;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_log)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>
    /// Starts the agent with <paramref name="arguments"/>. <paramref name="start"/> runs a command line
    /// (defaults to running it on this host; a pod sandbox passes its own to run it inside the pod's network namespace).
    /// <paramref name="output"/> sees every line as it comes (whether on stderr, the line), e.g. for a container's log.
    /// </summary>
    /// <param name="native">Run <see cref="NativeAgent"/> (when published) rather than the framework-dependent build.</param>
    public static async Task<AgentProcess> StartAsync(
        IEnumerable<string> arguments, Func<string, IReadOnlyList<string>, ProcessStartInfo>? start = null, TimeSpan? timeout = null, Action<bool, string>? output = null,
        bool native = false)
    {
        var (file, commandLine) = native && NativeAgent is { } executable ? (executable, arguments.ToArray()) : (DotnetHost, [AgentAssembly, .. arguments]);
        var info = start?.Invoke(file, commandLine) ?? new ProcessStartInfo(file, commandLine);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var agent = new AgentProcess(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}."), output);
        try
        {
            var exited = agent._process.WaitForExitAsync();
            var listening = agent._listening.Task;
            if (await Task.WhenAny(listening, exited, Task.Delay(timeout ?? TimeSpan.FromSeconds(30))) != listening)
            {
                throw new AgentStartException(
                    $"The agent did not start listening. Its output:{Environment.NewLine}{string.Join(Environment.NewLine, agent.Log)}",
                    exited.IsCompleted ? agent._process.ExitCode : null, agent.Log);
            }

            return agent;
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for the agent to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Resident memory of the agent process, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"No VmRSS for process {Pid}.");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private static string DotnetHost => Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private void OnLine(string? line, bool isError, Action<bool, string>? output)
    {
        if (line is null)
        {
            return;
        }

        output?.Invoke(isError, line);

        lock (_log)
        {
            _log.Add(line);
        }

        var match = ListeningLine().Match(line);
        if (match.Success)
        {
            _listening.TrySetResult(IPEndPoint.Parse(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"listening on (\S+),")]
    private static partial Regex ListeningLine();
}
