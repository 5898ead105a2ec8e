using System.Diagnostics;

namespace ClusterContext.Tests.Patching;

/// <summary>Runs the patching probe (copied next to the tests) in a child process and returns its exit code and output.</summary>
internal static class ProbeProcess
{
    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ClusterContext.Patching.Probe.dll"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var probe = Process.Start(info)!;
        var output = probe.StandardOutput.ReadToEndAsync();
        var errors = probe.StandardError.ReadToEndAsync();
        await probe.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (probe.ExitCode, await output + await errors);
    }
}
