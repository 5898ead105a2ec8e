using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.FunctionalTests;

[Collection(SandboxGroup.Name)]
public class NetworkTests(SandboxAgentFixture fixture)
{
    [Fact]
    public async Task The_cluster_service_name_resolves_through_the_agent()
    {
        await using var client = await fixture.ConnectAsync();
        var answer = await client.ResolveAsync(fixture.Sandbox.RedisHostName);
        Assert.Equal([fixture.Sandbox.RedisIP], answer.Addresses);
        Assert.Equal(fixture.Sandbox.RedisHostName, answer.QueriedName);
    }

    [Fact]
    public async Task A_short_name_is_completed_with_the_pods_search_domains()
    {
        await using var client = await fixture.ConnectAsync();
        var answer = await client.ResolveAsync("redis", AddressFamilyFilter.IPv4);
        Assert.Equal(fixture.Sandbox.RedisHostName, answer.QueriedName);
        Assert.Equal([fixture.Sandbox.RedisIP], answer.Addresses);

        var config = await client.GetResolverConfigAsync();
        Assert.Equal([fixture.Sandbox.DnsServerIP], config.NameServers);
        Assert.Equal(5, config.Ndots);
        Assert.Equal($"{fixture.Sandbox.Namespace}.svc.cluster.local", config.SearchDomains[0]);
    }

    [Fact]
    public async Task An_unknown_cluster_name_is_NameNotFound()
    {
        await using var client = await fixture.ConnectAsync();
        var error = await Assert.ThrowsAsync<RemoteException>(() => client.ResolveAsync($"nothing.{fixture.Sandbox.Namespace}.svc.cluster.local"));
        Assert.Equal(ErrorCode.NameNotFound, error.Code);
    }

    [Fact]
    public async Task The_service_network_is_unreachable_from_the_host()
    {
        // Only the agent can reach the cluster's DNS server and services: from here the route is refused at once.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAnyAsync<SocketException>(async () => await socket.ConnectAsync(new IPEndPoint(fixture.Sandbox.DnsServerIP, 53), timeout.Token));
        Assert.False(timeout.IsCancellationRequested);
    }

    [Fact]
    public async Task A_tunnelled_TCP_stream_to_the_in_cluster_redis_gets_PONG()
    {
        await using var client = await fixture.ConnectAsync();
        var connection = await client.ConnectTcpAsync(fixture.Sandbox.RedisHostName, 6379);
        await using (connection)
        {
            Assert.Equal(fixture.Sandbox.RedisIP, connection.RemoteEndPoint.Address);
            await connection.Stream.WriteAsync("PING\r\n"u8.ToArray());
            var reply = new byte[7];
            await connection.Stream.ReadExactlyAsync(reply);
            Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(reply));
        }
    }

    [Fact]
    public async Task Connecting_to_a_closed_port_in_the_cluster_is_ConnectionRefused()
    {
        await using var client = await fixture.ConnectAsync();
        var error = await Assert.ThrowsAsync<RemoteException>(() => client.ConnectTcpAsync(fixture.Sandbox.RedisIP.ToString(), 6380));
        Assert.Equal(ErrorCode.ConnectionRefused, error.Code);
    }

    [Fact]
    public async Task A_UDP_DNS_query_through_the_agent_is_answered()
    {
        await using var client = await fixture.ConnectAsync();
        var socket = await client.OpenUdpAsync();
        await using (socket)
        {
            var query = BuildQuery(0x4242, fixture.Sandbox.RedisHostName);
            var server = new IPEndPoint(fixture.Sandbox.DnsServerIP, 53);
            await socket.SendToAsync(query, server);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var (from, answer) = await socket.ReceiveFromAsync(timeout.Token);

            Assert.Equal(server, from);
            Assert.Equal(0x4242, BinaryPrimitives.ReadUInt16BigEndian(answer));
            Assert.Equal(0, answer[3] & 0x0f);
            Assert.True(BinaryPrimitives.ReadUInt16BigEndian(answer.AsSpan(6)) >= 1, "no answer records");
            Assert.True(answer.AsSpan().IndexOf(fixture.Sandbox.RedisIP.GetAddressBytes()) > 0, "the answer does not carry redis's address");
        }
    }

    private static byte[] BuildQuery(ushort id, string name)
    {
        var bytes = new List<byte> { (byte)(id >> 8), (byte)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.AddRange([0, 0, 1, 0, 1]);
        return [.. bytes];
    }
}
