using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

/// <summary>
/// A recursive name server on a loopback address, UDP and TCP on the same ephemeral port, answering from a
/// dictionary: unknown names get NXDOMAIN, CNAMEs are followed, chosen names get TC=1 over UDP, SERVFAIL or REFUSED.
/// </summary>
internal sealed class FakeDnsServer : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;
    private readonly ConcurrentDictionary<string, List<FakeRecord>> _zone = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<FakeQuery> _queries = new();

    private FakeDnsServer(Socket udp, TcpListener tcp)
    {
        _udp = udp;
        _tcp = tcp;
        Port = ((IPEndPoint)udp.LocalEndPoint!).Port;
        _udpLoop = ServeUdpAsync();
        _tcpLoop = ServeTcpAsync();
    }

    public int Port { get; }

    public HashSet<string> TruncatedOverUdp { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> Failing { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Names answered REFUSED, as a server answers for zones it does not serve (dnsmasq, node-local caches).</summary>
    public HashSet<string> Refusing { get; } = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<FakeQuery> Queries => [.. _queries];

    public static FakeDnsServer Start(IPAddress address)
    {
        for (var attempt = 0; ; attempt++)
        {
            var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(address, 0));
            var tcp = new TcpListener(address, ((IPEndPoint)udp.LocalEndPoint!).Port);
            try
            {
                tcp.Start();
                return new FakeDnsServer(udp, tcp);
            }
            catch (SocketException) when (attempt < 10)
            {
                udp.Dispose();
            }
        }
    }

    public FakeDnsServer Add(string owner, DnsRecordType type, string data, uint ttl = 300)
    {
        _zone.GetOrAdd(owner, _ => []).Add(new FakeRecord(owner, type, data, ttl));
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Stop();
        await Task.WhenAll(_udpLoop, _tcpLoop);
        _stop.Dispose();
    }

    private byte[] Answer(ReadOnlySpan<byte> message, bool overTcp)
    {
        var query = FakeQuery.Parse(message, overTcp);
        _queries.Enqueue(query);
        if (Failing.Contains(query.Name))
        {
            return DnsResponseBuilder.Build(query.Id, query.Name, (ushort)query.Type, [], DnsResponseCode.ServerFailure);
        }

        if (Refusing.Contains(query.Name))
        {
            return DnsResponseBuilder.Build(query.Id, query.Name, (ushort)query.Type, [], DnsResponseCode.Refused);
        }

        if (!overTcp && TruncatedOverUdp.Contains(query.Name))
        {
            return DnsResponseBuilder.Build(query.Id, query.Name, (ushort)query.Type, [], truncated: true);
        }

        if (!_zone.ContainsKey(query.Name))
        {
            return DnsResponseBuilder.Build(query.Id, query.Name, (ushort)query.Type, [], DnsResponseCode.NameError);
        }

        // Like a recursive server: the CNAME chain first, then the records of its end.
        var answers = new List<FakeRecord>();
        var name = query.Name;
        while (_zone.TryGetValue(name, out var records) && records.Find(r => r.Type == DnsRecordType.Cname) is { } alias)
        {
            answers.Add(alias);
            name = alias.Data;
        }

        answers.AddRange(_zone.TryGetValue(name, out var final) ? final.Where(r => r.Type == query.Type) : []);
        return DnsResponseBuilder.Build(query.Id, query.Name, (ushort)query.Type, answers);
    }

    private async Task ServeUdpAsync()
    {
        var buffer = new byte[ushort.MaxValue];
        try
        {
            while (true)
            {
                var received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var reply = Answer(buffer.AsSpan(0, received.ReceivedBytes), overTcp: false);
                await _udp.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeTcpAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _tcp.AcceptTcpClientAsync(_stop.Token);
                connections.Add(ServeConnectionAsync(client));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeConnectionAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var prefix = new byte[2];
        try
        {
            while (true)
            {
                await stream.ReadExactlyAsync(prefix, _stop.Token);
                var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                await stream.ReadExactlyAsync(query, _stop.Token);
                var reply = Answer(query, overTcp: true);
                BinaryPrimitives.WriteUInt16BigEndian(prefix, (ushort)reply.Length);
                await stream.WriteAsync(prefix, _stop.Token);
                await stream.WriteAsync(reply, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }
}
