using ClusterContext.Testing;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// The file-open, file-exists, DNS and socket-connect choke points, patched in a child process and called at least
/// 500,000 times each over at least 3 seconds from several threads, under each runtime configuration that changes
/// how and when methods are recompiled. Every call must reach the replacement.
/// </summary>
public class PersistenceTests
{
    [Theory]
    [MemberData(nameof(RuntimeConfigurations.All), MemberType = typeof(RuntimeConfigurations))]
    public async Task Every_call_reaches_the_replacement(string configuration)
    {
        var environment = RuntimeConfigurations.Variables(configuration);
        var (exitCode, text) = await ProbeProcess.RunAsync(["3", "500000"], environment);

        Assert.True(exitCode == 0, $"{configuration}: exit code {exitCode}{Environment.NewLine}{text}");
        Assert.Contains("RESULT: PASS", text, StringComparison.Ordinal);
        foreach (var workload in new[] { "file-exists", "file-open", "dns", "socket-connect" })
        {
            var line = text.Split('\n').Single(l => l.StartsWith(workload, StringComparison.Ordinal));
            Assert.EndsWith(" ok", line.TrimEnd(), StringComparison.Ordinal);
        }
    }
}
