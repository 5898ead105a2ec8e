using System.Diagnostics;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>
/// The redirector in a process of its own in the pod (tests/Agent.RedirectProbe, the agent's redirect sources), so a
/// test can kill it the way an agent dies. It prints "ready &lt;table&gt;" once its redirects are in place.
/// </summary>
internal sealed class RedirectProbe : IDisposable
{
    private readonly Process _process;

    private RedirectProbe(Process process, string tableName)
    {
        _process = process;
        TableName = tableName;
    }

    public string TableName { get; }

    public int Pid => _process.Id;

    /// <summary>tests/Agent.RedirectProbe/bin/&lt;configuration&gt;/&lt;framework&gt;/Agent.RedirectProbe.dll, beside this test project's output.</summary>
    public static string Assembly
    {
        get
        {
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            var tests = output.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(tests, "Agent.RedirectProbe", "bin", output.Parent.Name, output.Name, "Agent.RedirectProbe.dll");
        }
    }

    public static string DotnetHost => Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    public static async Task<RedirectProbe> StartAsync(PodSandbox sandbox, params ushort[] portPairs)
    {
        var process = sandbox.StartInPod(DotnetHost, [Assembly, .. portPairs.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))], info =>
        {
            info.RedirectStandardInput = true;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("ready ", StringComparison.Ordinal))
        {
            var error = await process.StandardError.ReadToEndAsync(timeout.Token);
            throw new InvalidOperationException($"The redirect probe did not start: {line} {error}");
        }

        return new RedirectProbe(process, line["ready ".Length..]);
    }

    /// <summary>Sends a command ("redirect P L", "remove P", "dispose") and waits for its "ok".</summary>
    public async Task CommandAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("ok", await _process.StandardOutput.ReadLineAsync(timeout.Token));
    }

    /// <summary>SIGKILL, as the kubelet or the OOM killer ends a container: no handler of the process runs.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>Closes its input: the probe disposes the redirector and exits 0.</summary>
    public async Task<int> EndInputAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
