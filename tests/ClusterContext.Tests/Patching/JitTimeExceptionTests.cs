using ClusterContext.Testing;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// An exception the runtime raises while the JIT compiles a method (a callee's assembly is not deployed, a method
/// or type is missing) travels from the runtime through the JIT back to the runtime's handler around the
/// compilation, past the JIT hook. It must reach the app's catch as it does without the hook (the process was
/// aborted: the C++ unwinder cannot pass a managed frame), and the compilations it ended must not keep the hook's
/// places for compilations in flight: a patched method re-compiled after 680 of them (on one thread, on
/// 80 threads that end after theirs, on 4 threads at once) still gets its patch. Under
/// every runtime configuration (without tiered compilation nothing is re-compiled; the other checks still hold).
/// </summary>
public class JitTimeExceptionTests
{
    [Theory]
    [MemberData(nameof(RuntimeConfigurations.All), MemberType = typeof(RuntimeConfigurations))]
    public async Task Exceptions_raised_during_a_compilation_reach_the_caller(string configuration)
    {
        var (exitCode, text) = await ProbeProcess.RunAsync(["jit-exceptions"], RuntimeConfigurations.Variables(configuration));

        Assert.True(exitCode == 0, $"{configuration}: exit code {exitCode}{Environment.NewLine}{text}");
        Assert.Contains("caught FileNotFoundException", text, StringComparison.Ordinal);
        Assert.Contains("caught MissingMethodException", text, StringComparison.Ordinal);
        Assert.Contains("caught TypeLoadException", text, StringComparison.Ordinal);
        Assert.Contains("after the first exceptions: patched call reaches the replacement, ok", text, StringComparison.Ordinal);
        Assert.Contains("caught in all: FileNotFoundException=280, MissingMethodException=200, TypeLoadException=200", text, StringComparison.Ordinal);
        Assert.Contains(configuration == "DOTNET_TieredCompilation=0" ? "re-compiled after the exceptions: no, not tiered" : "re-compiled after the exceptions: yes", text, StringComparison.Ordinal);
        Assert.Contains("RESULT: PASS", text, StringComparison.Ordinal);
    }
}
