using ClusterContext.Testing;

namespace ClusterContext.Agent.FunctionalTests;

public class CommandLineTests
{
    [Fact]
    public async Task Help_prints_usage_and_exits_zero()
    {
        var (code, output) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage: clusterctx-agent --listen ADDR:PORT", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--target-pid", "1" }, "--listen ADDR:PORT is required")]
    [InlineData(new[] { "--listen", "nonsense" }, "is not ADDR:PORT")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--target-pid", "zero" }, "is not a process id")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--idle-timeout", "-3" }, "is not a positive number of seconds")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--bogus", "1" }, "Unknown option '--bogus'")]
    [InlineData(new[] { "--listen" }, "--listen needs a value")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--coordination", "" }, "is not a socket name")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--token-sha256", "abc" }, "is not a SHA-256 digest")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--token", "t", "--token-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }, "not both")]
    public async Task Bad_arguments_print_a_clear_error_and_exit_non_zero(string[] arguments, string message)
    {
        var (code, output) = await RunAsync(arguments);
        Assert.NotEqual(0, code);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_target_that_does_not_exist_is_reported_with_what_to_do()
    {
        var (code, output) = await RunAsync("--listen", "127.0.0.1:0", "--target-pid", "999999999");
        Assert.NotEqual(0, code);
        Assert.Contains("No process 999999999 is visible to the agent", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet", [AgentProcess.AgentAssembly, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, await stdout + await stderr);
    }
}
