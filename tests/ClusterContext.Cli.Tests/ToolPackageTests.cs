using System.Diagnostics;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Tests;

/// <summary>
/// The tool as a user gets it: packed, installed with <c>dotnet tool install</c>, run from where it was installed. A
/// .NET program under its hook, another with the pod's environment, and its sandbox cluster with the agent it carries.
/// </summary>
[Collection(SandboxGroup.Name)]
public sealed class ToolPackageTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    [Fact]
    public async Task The_installed_tool_runs_a_dotnet_app_under_its_hook_a_shell_and_its_own_sandbox_cluster()
    {
        var work = Directory.CreateTempSubdirectory("clusterctx-tool-").FullName;
        // A version of its own: the global packages folder keeps what it installed once, and this run must use what it packed.
        var version = $"0.1.0-test-{Guid.NewGuid().ToString("N")[..8]}";
        try
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
            var pack = await DotnetAsync("pack", Path.Combine(Clusterctx.RepositoryRoot, "src/ClusterContext.Cli"), "--no-build", "-c", configuration,
                "-o", Path.Combine(work, "packages"), $"-p:PackageVersion={version}", "-nologo", "-v", "q");
            Assert.True(pack.ExitCode == 0, pack.Output);
            var install = await DotnetAsync("tool", "install", "--tool-path", Path.Combine(work, "tools"), "--add-source", Path.Combine(work, "packages"),
                "--version", version, "ClusterContext.Cli");
            Assert.True(install.ExitCode == 0, install.Output);
            var tool = Path.Combine(work, "tools", "clusterctx");

            var app = await RunToolAsync(tool, Fixture.Kubeconfig, "run", "-t", "deployment/orders", "--", "dotnet", Clusterctx.AppPath, "env:ORDERS_MODE", $"read:{SandboxCluster.ConfigPath}");
            Assert.True(app.ExitCode == 0, app.Output);
            Assert.Contains("env:ORDERS_MODE\tsandbox", app.Output, StringComparison.Ordinal);
            Assert.Contains($"read:{SandboxCluster.ConfigPath}\t{SandboxCluster.ConfigText}", app.Output, StringComparison.Ordinal);

            var shell = await RunToolAsync(tool, Fixture.Kubeconfig, "run", "-t", "deployment/orders", "--", "sh", "-c", "echo mode=$ORDERS_MODE");
            Assert.True(shell.ExitCode == 0, shell.Output);
            Assert.Contains("mode=sandbox", shell.Output, StringComparison.Ordinal);

            // Its own sandbox cluster, whose kubelet starts the agent the tool carries.
            var kubeconfig = Path.Combine(work, "sandbox.kubeconfig");
            var sandbox = new Clusterctx(kubeconfig, Runtime).StartInfo(tool, ["sandbox", "--kubeconfig", kubeconfig], null, work);
            using var cluster = Process.Start(sandbox)!;
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("Ctrl+C stops", StringComparison.Ordinal) == true)
                {
                    ready.TrySetResult();
                }
            };
            cluster.BeginOutputReadLine();
            var errors = cluster.StandardError.ReadToEndAsync();
            try
            {
                await Task.WhenAny(ready.Task, cluster.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(120));
                if (!ready.Task.IsCompleted)
                {
                    Assert.Fail($"The installed tool's sandbox cluster did not get ready: {await errors}");
                }

                var inSandbox = await RunToolAsync(tool, kubeconfig, "run", "-t", "deployment/orders", "--", "sh", "-c", "echo mode=$ORDERS_MODE");
                Assert.True(inSandbox.ExitCode == 0, inSandbox.Output);
                Assert.Contains("mode=sandbox", inSandbox.Output, StringComparison.Ordinal);
            }
            finally
            {
                using (var kill = Process.Start("kill", ["-TERM", cluster.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
                {
                    await kill.WaitForExitAsync();
                }

                await cluster.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }

            Assert.Equal(0, cluster.ExitCode);
        }
        finally
        {
            var cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "clustercontext.cli", version);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }

            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<(int ExitCode, string Output)> RunToolAsync(string tool, string kubeconfig, params string[] arguments)
    {
        var info = new Clusterctx(kubeconfig, Runtime).StartInfo(tool, arguments, null, Runtime);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await output + await errors);
    }

    private static async Task<(int ExitCode, string Output)> DotnetAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        info.Environment.Remove("DOTNET_STARTUP_HOOKS");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return (process.ExitCode, await output + await errors);
    }
}
