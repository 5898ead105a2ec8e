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
        var (exitCode, text) = await ProbeProcess.RunAsync(["coverage"]);

        Assert.True(exitCode == 0, text);
        Assert.Contains("RESULT: PASS", text, StringComparison.Ordinal);
        Assert.Contains("HttpClient.GetStringAsync", text, StringComparison.Ordinal);
        Assert.DoesNotContain("MISSING", text, StringComparison.Ordinal);
    }
}
