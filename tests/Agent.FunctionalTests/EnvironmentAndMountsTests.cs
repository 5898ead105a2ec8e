using System.Text;

namespace ClusterContext.Agent.FunctionalTests;

[Collection(SandboxGroup.Name)]
public class EnvironmentAndMountsTests(SandboxAgentFixture fixture)
{
    [Fact]
    public async Task The_environment_is_exactly_the_app_processes_environment()
    {
        await using var client = await fixture.ConnectAsync();
        var remote = await client.GetEnvironmentAsync();

        var procEnviron = Encoding.UTF8.GetString(await File.ReadAllBytesAsync($"/proc/{fixture.Sandbox.AppPid}/environ"))
            .Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => KeyValuePair.Create(e[..e.IndexOf('=', StringComparison.Ordinal)], e[(e.IndexOf('=', StringComparison.Ordinal) + 1)..]))
            .ToList();
        Assert.Equal(procEnviron, remote);
        Assert.Equal(fixture.Sandbox.Environment.OrderBy(p => p.Key), remote.OrderBy(p => p.Key));
        Assert.Contains(remote, v => v.Key == "ORDERS_MODE" && v.Value == "sandbox");
        Assert.NotEqual(Environment.GetEnvironmentVariable("PATH"), remote.FirstOrDefault(v => v.Key == "PATH").Value);
    }

    [Fact]
    public async Task The_mount_table_shows_the_pods_volumes_at_their_container_paths()
    {
        await using var client = await fixture.ConnectAsync();
        var mounts = await client.GetMountsAsync();

        Assert.Contains(mounts, m => m.MountPoint == "/etc/config");
        Assert.Contains(mounts, m => m.MountPoint == "/var/run/secrets/kubernetes.io/serviceaccount");
        Assert.Contains(mounts, m => m.MountPoint == "/usr" && m.ReadOnly);
    }

    [Fact]
    public async Task Ping_round_trips()
    {
        await using var client = await fixture.ConnectAsync();
        var elapsed = await client.PingAsync();
        Assert.True(elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal(fixture.Sandbox.AppPid, client.Agent.TargetPid);
    }
}
