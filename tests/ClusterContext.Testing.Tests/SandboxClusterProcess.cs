using System.Diagnostics;
using System.Globalization;

[assembly: AssemblyFixture(typeof(ClusterContext.Testing.Tests.SandboxClusterProcess))]

namespace ClusterContext.Testing.Tests;

/// <summary>
/// The sandbox cluster as its own process (the session hooks this test process, so the cluster stays out of it),
/// started before any fixture; its kubeconfig becomes this process's KUBECONFIG, as a developer's would be.
/// </summary>
public sealed class SandboxClusterProcess : IAsyncLifetime
{
    private readonly List<string> _output = [];
    private Process? _process;
    private string _directory = "";

    public string Kubeconfig => Path.Combine(_directory, "kubeconfig");

    public static string RepositoryRoot => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static string BuildOutput(string project, string file)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return Path.Combine(RepositoryRoot, project, "bin", output.Parent!.Name, output.Name, file);
    }

    public async ValueTask InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("testing-sandbox-cluster-").FullName;
        _process = Process.Start(new ProcessStartInfo("dotnet", [BuildOutput("tests/SandboxCluster", "SandboxCluster.dll"), "--kubeconfig", Kubeconfig])
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
            lock (_output)
            {
                throw new InvalidOperationException($"The sandbox cluster did not become ready:{Environment.NewLine}{string.Join(Environment.NewLine, _output)}");
            }
        }

        Environment.SetEnvironmentVariable("KUBECONFIG", Kubeconfig);
    }

    public async ValueTask DisposeAsync()
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
