using System.Diagnostics;
using ClusterContext.Testing;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// The install race, tried many times: in each child process every choke point (file open, file exists, directory
/// exists, file status, directory open, DNS sync and async, connect sync and async, bind, listen) is called all the
/// time by four threads from the start, so that tier-ups are queued and compiled around the install; busy threads load
/// every core; the patches go in at a moment the seed picks; every call made after the install must reach its
/// replacement, and the engine must not have needed its safety-net sweep. Immediate call counting, where an
/// unchanged app was seen to miss calls in 3 of 20 runs, gets 52 runs: a window that missed calls in 1 of 8 runs
/// would show with a probability above 99.9 % (1 - (7/8)^52). The other configurations get 12 each (a 1-in-4
/// window would show with 97 %), which keeps the suite within its time on two cores.
/// </summary>
[Trait("Category", "Load")]
public class InstallRaceStressTests
{
    [Theory]
    [MemberData(nameof(RuntimeConfigurations.All), MemberType = typeof(RuntimeConfigurations))]
    public async Task Every_call_after_the_install_reaches_the_replacement(string configuration)
    {
        var environment = RuntimeConfigurations.Variables(configuration);
        var failures = new List<string>();
        var reachedRecompilation = 0;
        var stopwatch = Stopwatch.StartNew();
        var runs = configuration == RuntimeConfigurations.ImmediateCallCounting ? 52 : 12;
        for (var run = 0; run < runs; run++)
        {
            var seed = (configuration.GetHashCode(StringComparison.Ordinal) & 0xFFFF) * 1000 + run;
            var (exitCode, text) = await ProbeProcess.RunAsync(["stress", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "2000", "250"], environment);
            if (exitCode != 0 || !text.Contains("RESULT: PASS", StringComparison.Ordinal))
            {
                failures.Add($"run {run} (seed {seed}), exit code {exitCode}:{Environment.NewLine}{text}");
            }

            // More than one body for some target: the runtime re-compiled it while it was patched.
            if (text.Split('\n').FirstOrDefault(l => l.StartsWith("engine:", StringComparison.Ordinal)) is { } engine
                && engine[(engine.IndexOf("bodies=", StringComparison.Ordinal) + 7)..].Split(',').Any(b => !b.TrimEnd().EndsWith(":1", StringComparison.Ordinal)))
            {
                reachedRecompilation++;
            }
        }

        Assert.True(failures.Count == 0, $"{configuration}: {failures.Count} of {runs} runs missed calls or needed the sweep ({stopwatch.Elapsed.TotalSeconds:0} s){Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(3))}");
        if (configuration != "DOTNET_TieredCompilation=0")
        {
            Assert.True(reachedRecompilation > 0, $"{configuration}: no run saw a patched target re-compiled; the runs do not exercise tiering");
        }
    }
}
