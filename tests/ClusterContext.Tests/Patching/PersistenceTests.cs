using System.Diagnostics;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// The file-open, file-exists, DNS and socket-connect choke points, patched in a child process and called at least
/// 500,000 times each over at least 3 seconds from several threads, under each runtime configuration that changes
/// how and when methods are recompiled. Every call must reach the replacement.
/// </summary>
public class PersistenceTests
{
    [Theory]
    [InlineData("default")]
    [InlineData("DOTNET_TieredCompilation=0")]
    [InlineData("DOTNET_TC_CallCountingDelayMs=0")]
    [InlineData("DOTNET_TieredPGO=0")]
    [InlineData("DOTNET_ReadyToRun=0")]
    [InlineData("DOTNET_TC_OnStackReplacement_InitialCounter=1 DOTNET_OSR_HitLimit=1")]
    [InlineData("DOTNET_EnableWriteXorExecute=0")]
    public async Task Every_call_reaches_the_replacement(string configuration)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ClusterContext.Patching.Probe.dll"), "3", "500000"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var setting in configuration.Split(' ').Where(s => s.Contains('=', StringComparison.Ordinal)))
        {
            var (name, value) = (setting[..setting.IndexOf('=', StringComparison.Ordinal)], setting[(setting.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            info.Environment[name] = value;
        }

        using var probe = Process.Start(info)!;
        var output = probe.StandardOutput.ReadToEndAsync();
        var errors = probe.StandardError.ReadToEndAsync();
        await probe.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        var text = await output + await errors;

        Assert.True(probe.ExitCode == 0, $"{configuration}: exit code {probe.ExitCode}{Environment.NewLine}{text}");
        Assert.Contains("RESULT: PASS", text, StringComparison.Ordinal);
        foreach (var workload in new[] { "file-exists", "file-open", "dns", "socket-connect" })
        {
            var line = text.Split('\n').Single(l => l.StartsWith(workload, StringComparison.Ordinal));
            Assert.EndsWith(" ok", line.TrimEnd(), StringComparison.Ordinal);
        }
    }
}
