using System.Net.Sockets;
using System.Text;

namespace ClusterContext.Testing.Tests;

/// <summary>Tests that use the fixture see the pod: its environment, its mounted files, its services by name.</summary>
[Collection(OrdersPod.Name)]
public sealed class PodContextTests(OrdersPodFixture fixture)
{
    [Fact]
    public void TheSessionIsConnectedToTheTarget()
    {
        Assert.True(fixture.IsConnected);
        Assert.Null(fixture.LocalReason);
        Assert.Equal("deployment/orders", fixture.Session.Options.Target);
        Assert.Same(ClusterContextSession.Current, fixture.Session);
    }

    [Fact]
    public void ThePodsEnvironmentIsImported()
    {
        Assert.Equal("sandbox", fixture.Environment["ORDERS_MODE"]);
        Assert.Equal("sandbox", Environment.GetEnvironmentVariable("ORDERS_MODE"));
    }

    [Fact]
    public void AMountedFileIsReadFromThePod()
    {
        Assert.Equal("sandbox-orders-password", File.ReadAllText("/var/run/secrets/orders/password"));
        Assert.Equal("""{"Orders":{"Source":"configmap"}}""", File.ReadAllText("/etc/orders/appsettings.json"));
    }

    [Fact]
    public async Task RedisIsReachedByItsServiceName()
    {
        using var client = new TcpClient();
        await client.ConnectAsync("redis", 6379, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);
        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(buffer, 0, read));
    }
}
