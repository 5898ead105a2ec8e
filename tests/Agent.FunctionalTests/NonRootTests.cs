using System.Diagnostics;
using System.Globalization;
using System.Text;
using ClusterContext.Protocol;
using ClusterContext.Session;
using ClusterContext.Testing;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>
/// In a pod that must not run as root, the agent runs as the target container's user (the ephemeral container takes
/// its runAsUser): it needs no privilege to serve that user's process, and gets none over files the user may not read.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NonRootTests : IAsyncLifetime
{
    private const int User = 1000;
    private readonly string _folder = Directory.CreateTempSubdirectory("clusterctx-nonroot-").FullName;
    private Process _target = null!;
    private AgentProcess _agent = null!;

    public async Task InitializeAsync()
    {
        File.SetUnixFileMode(_folder, (UnixFileMode)Convert.ToInt32("755", 8));
        await File.WriteAllTextAsync(Path.Combine(_folder, "own.txt"), "the user's own secret");
        await File.WriteAllTextAsync(Path.Combine(_folder, "root.txt"), "root only");
        File.SetUnixFileMode(Path.Combine(_folder, "own.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(Path.Combine(_folder, "root.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Chown(Path.Combine(_folder, "own.txt"));

        _target = Process.Start(new ProcessStartInfo("setpriv", [.. AsUser, "env", "-i", "MARKER=non-root-app", "sleep", "300"]))!;
        _agent = await AgentProcess.StartAsync(
            ["--listen", "127.0.0.1:0", "--target-pid", _target.Id.ToString(CultureInfo.InvariantCulture), "--token", "t"],
            (file, args) => new ProcessStartInfo("setpriv", [.. AsUser, file, .. args]));
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        _target.Kill();
        await _target.WaitForExitAsync();
        _target.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task An_agent_running_as_the_targets_user_serves_its_environment_and_files_but_not_roots()
    {
        await using var client = await AgentClient.ConnectAsync(_agent.EndPoint, "t", "non-root-test");

        var environment = await client.GetEnvironmentAsync();
        Assert.Contains(environment, e => e.Key == "MARKER" && e.Value == "non-root-app");
        Assert.Equal("the user's own secret", Encoding.UTF8.GetString(await client.ReadAllBytesAsync(Path.Combine(_folder, "own.txt"))));
        var refused = await Assert.ThrowsAsync<RemoteException>(() => client.ReadAllBytesAsync(Path.Combine(_folder, "root.txt")));
        Assert.Equal(ErrorCode.AccessDenied, refused.Code);
    }

    private static string[] AsUser => [$"--reuid={User}", $"--regid={User}", "--clear-groups"];

    private static void Chown(string path)
    {
        using var chown = Process.Start("chown", [$"{User}:{User}", path]);
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
