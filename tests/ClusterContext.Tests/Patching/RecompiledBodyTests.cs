using ClusterContext.Testing;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// The original of a patched method follows it to each new tier, but only once the runtime calls that tier too:
/// the runtime copies a new body into place after the JIT hook patched it, first bytes first, and a call into the
/// body before the copy is done runs whatever is still there (it crashed the app, about once in a hundred runs with
/// immediate call counting).
/// </summary>
public class RecompiledBodyTests
{
    [Theory]
    [InlineData("default")]
    [InlineData(RuntimeConfigurations.ImmediateCallCounting)]
    [InlineData("DOTNET_TieredPGO=0")]
    public async Task The_original_moves_to_a_new_body_only_once_it_is_published(string configuration)
    {
        var (exitCode, text) = await ProbeProcess.RunAsync(["half-copied"], RuntimeConfigurations.Variables(configuration));

        Assert.True(exitCode == 0, $"{configuration}: exit code {exitCode}{Environment.NewLine}{text}");
        Assert.Contains("the original runs in the previous body, ok", text, StringComparison.Ordinal);
        Assert.Contains("published: the original runs in the new body, ok", text, StringComparison.Ordinal);
        Assert.Contains("wrong=0", text, StringComparison.Ordinal);
    }
}
