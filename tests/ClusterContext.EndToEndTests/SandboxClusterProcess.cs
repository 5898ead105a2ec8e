using System.Diagnostics;
using System.Globalization;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The sandbox cluster as a user runs it (<c>dotnet SandboxCluster.dll --kubeconfig PATH</c>), started once for a
/// test class and stopped (SIGTERM, its own clean-up) after it.
/// </summary>
public sealed class SandboxClusterProcess : IAsyncLifetime
{
    public const string Pod = "orders-7d9f8-abcde";
    private readonly List<string> _output = [];
    private Process? _process;
    private string _directory = "";

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

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("sandbox-cluster-process-").FullName;
        _process = Process.Start(new ProcessStartInfo("dotnet", [AppRun.BuildOutput("tests/SandboxCluster", "SandboxCluster.dll"), "--kubeconfig", Kubeconfig])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            lock (_output)
            {
                _output.Add(line ?? "");
            }

            if (line?.Contains("Ctrl+C stops", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        }

        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Task.WhenAny(ready.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
        if (!ready.Task.IsCompleted)
        {
            throw new InvalidOperationException($"The sandbox cluster did not become ready:{Environment.NewLine}{Output()}");
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
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
        }

        Directory.Delete(_directory, recursive: true);
    }
}
