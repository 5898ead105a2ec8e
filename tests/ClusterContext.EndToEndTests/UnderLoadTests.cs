using ClusterContext.Testing;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// An unchanged app under the startup hook on a loaded machine (busy threads on every core), with a pod-only file
/// under a readOnly rule: <c>File.Exists</c> of it, from the app's first call on, 200,000 times from two threads,
/// must say true every time, whatever the runtime's tiering does around the hook's install. Immediate call counting
/// (where this was seen to fail in 3 of 20 runs) gets 12 runs, the other configurations 3 each.
/// </summary>
[Collection(PodGroup.Name)]
[Trait("Category", "Load")]
public class UnderLoadTests(PodFixture pod)
{
    [Theory]
    [MemberData(nameof(RuntimeConfigurations.All), MemberType = typeof(RuntimeConfigurations))]
    public async Task A_pod_file_exists_from_the_apps_first_call_on(string configuration)
    {
        Assert.False(File.Exists(PodFixture.ConfigFile), "the pod-only file must not exist on this machine");
        var directory = Directory.CreateTempSubdirectory("clustercontext-load-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "clustercontext.json"), """{ "fs": { "readOnly": ["^/etc/config/"] } }""");
            var environment = new Dictionary<string, string?>
            {
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
            };
            foreach (var (name, value) in RuntimeConfigurations.Variables(configuration))
            {
                environment[name] = value;
            }

            var command = $"exists-count:{PodFixture.ConfigFile}|200000";
            var runs = configuration == RuntimeConfigurations.ImmediateCallCounting ? 12 : 3;
            var failures = new List<string>();
            using (new CpuLoad())
            {
                for (var i = 0; i < runs; i++)
                {
                    var run = await AppRun.RunAsync(environment, directory, command);
                    if (run.ExitCode != 0 || !run.Results.TryGetValue(command, out var result) || result != "200000/200000 first-miss=none")
                    {
                        failures.Add($"run {i}: exit code {run.ExitCode}: {run.Output}");
                    }
                }
            }

            Assert.True(failures.Count == 0, $"{configuration}: {failures.Count} of {runs} runs missed the pod's file{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(3))}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
