using System.Diagnostics;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// Each public file, DNS and socket API, called once in a child process with every choke point patched by a counting
/// pass-through, must pass the choke point docs/patching-choke-points.md names for it.
/// </summary>
public class ChokePointCoverageTests
{
    [Fact]
    public async Task Every_public_api_passes_its_choke_point()
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ClusterContext.Patching.Probe.dll"), "coverage"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var probe = Process.Start(info)!;
        var output = probe.StandardOutput.ReadToEndAsync();
        var errors = probe.StandardError.ReadToEndAsync();
        await probe.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var text = await output + await errors;

        Assert.True(probe.ExitCode == 0, text);
        Assert.Contains("RESULT: PASS", text, StringComparison.Ordinal);
        Assert.Contains("HttpClient.GetStringAsync", text, StringComparison.Ordinal);
        Assert.DoesNotContain("MISSING", text, StringComparison.Ordinal);
    }
}
