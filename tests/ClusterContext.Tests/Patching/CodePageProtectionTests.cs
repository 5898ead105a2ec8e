namespace ClusterContext.Tests.Patching;

/// <summary>
/// A patched body's page keeps the protection the runtime gave it: read-execute with W^X on; read-write-execute
/// with W^X off, where the runtime writes new code and stubs straight into executable pages (a page left
/// read-execute crashed the next stub written there, about once in 15 runs of an app).
/// </summary>
public class CodePageProtectionTests
{
    [Theory]
    [InlineData("1", "r-x")]
    [InlineData("0", "rwx")]
    public async Task A_patched_bodys_page_keeps_its_protection(string writeXorExecute, string expected)
    {
        var (exitCode, text) = await ProbeProcess.RunAsync(["code-pages"], new Dictionary<string, string> { ["DOTNET_EnableWriteXorExecute"] = writeXorExecute });

        Assert.True(exitCode == 0, text);
        Assert.Contains("patched: 1007", text, StringComparison.Ordinal);
        var protections = text.Split('\n').Where(l => l.StartsWith("protection=", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(protections);
        Assert.All(protections, p => Assert.StartsWith($"protection={expected}", p, StringComparison.Ordinal));
    }
}
