using System.Diagnostics;
using System.Globalization;

namespace ClusterContext.Testing.Cluster;

/// <summary>
/// The sandbox cluster as a user runs it, in a process of its own (<c>dotnet SandboxCluster.dll --kubeconfig PATH</c>):
/// ready once it prints "Ctrl+C stops", stopped with SIGTERM (its own clean-up, then a kill after 60 s).
/// </summary>
internal sealed class SandboxClusterRun : IAsyncDisposable
{
    private readonly List<string> _output = [];
    private readonly string _directory;
    private readonly Process _process;

    private SandboxClusterRun(string sandboxClusterDll, string directory)
    {
        _directory = directory;
        _process = Process.Start(new ProcessStartInfo("dotnet", [sandboxClusterDll, "--kubeconfig", Kubeconfig])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
    }

    public string Kubeconfig => Path.Combine(_directory, "kubeconfig");

    /// <summary>The pod sandbox's number N (its pod is 10.240.N.2, its network namespace ccN-pod).</summary>
    public int SandboxIndex => int.Parse(System.Text.RegularExpressions.Regex.Match(Output(), @"at 10\.240\.(\d+)\.2,").Groups[1].Value, CultureInfo.InvariantCulture);

    public string Output()
    {
        lock (_output)
        {
            return string.Join(Environment.NewLine, _output);
        }
    }

    public static async Task<SandboxClusterRun> StartAsync(string sandboxClusterDll, string purpose)
    {
        var run = new SandboxClusterRun(sandboxClusterDll, Directory.CreateTempSubdirectory($"{purpose}-").FullName);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            lock (run._output)
            {
                run._output.Add(line ?? "");
            }

            if (line?.Contains("Ctrl+C stops", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        }

        run._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        run._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        run._process.BeginOutputReadLine();
        run._process.BeginErrorReadLine();
        await Task.WhenAny(ready.Task, run._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
        if (!ready.Task.IsCompleted)
        {
            await run.DisposeAsync();
            throw new InvalidOperationException($"The sandbox cluster did not become ready:{Environment.NewLine}{run.Output()}");
        }

        return run;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync();
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
