using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>
/// A name server in the pod's network namespace (UDP and TCP 53 on a loopback address of the pod) that answers each
/// name as a case says. A script is <c>name=answer;...</c>, where <c>name/A</c> or <c>name/AAAA</c> answers one type only
/// and an answer is one of: <c>0|addresses</c> (NOERROR with the addresses of the asked family; <c>0</c> alone is no
/// data), an RCODE (<c>3</c>, <c>5</c>, ...), <c>silent</c>, <c>lame</c> (NOERROR without answers, RA or AA),
/// <c>tc|addresses</c> (truncated over UDP, the addresses over TCP), <c>cname:target</c> (the CNAME, then the target's
/// records if the script has them, as a recursive server sends the chain), or <c>stray:owner|addresses</c> (address
/// records owned by another name). Names it was not told of get NXDOMAIN. Every query is counted.
/// </summary>
internal sealed class ScriptedNameServer : IAsyncDisposable
{
    private const int NameError = 3;

    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;
    private readonly Dictionary<string, string> _script;

    public ScriptedNameServer(Func<SocketType, ProtocolType, Socket> podSocket, IPAddress address, string script)
    {
        _script = script.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToDictionary(a => a[..a.IndexOf('=', StringComparison.Ordinal)], a => a[(a.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.OrdinalIgnoreCase);
        _udp = podSocket(SocketType.Dgram, ProtocolType.Udp);
        _udp.Bind(new IPEndPoint(address, 53));
        _tcp = podSocket(SocketType.Stream, ProtocolType.Tcp);
        _tcp.Bind(new IPEndPoint(address, 53));
        _tcp.Listen();
        _udpLoop = ServeUdpAsync();
        _tcpLoop = ServeTcpAsync();
    }

    /// <summary>The queries seen, as <c>name/TYPE/udp</c> or <c>name/TYPE/tcp</c>, in arrival order.</summary>
    public ConcurrentQueue<string> Queries { get; } = new();

    private async Task ServeUdpAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                if (Answer(buffer.AsSpan(0, received.ReceivedBytes), tcp: false) is { } response)
                {
                    await _udp.SendToAsync(response, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
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
                var connection = await _tcp.AcceptAsync(_stop.Token);
                connections.Add(ServeConnectionAsync(connection));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeConnectionAsync(Socket connection)
    {
        using var stream = new NetworkStream(connection, ownsSocket: true);
        var prefix = new byte[2];
        try
        {
            while (true)
            {
                await stream.ReadExactlyAsync(prefix, _stop.Token);
                var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                await stream.ReadExactlyAsync(query, _stop.Token);
                if (Answer(query, tcp: true) is { } response)
                {
                    var framed = new byte[2 + response.Length];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)response.Length);
                    response.CopyTo(framed, 2);
                    await stream.WriteAsync(framed, _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or EndOfStreamException or IOException)
        {
        }
    }

    private byte[]? Answer(ReadOnlySpan<byte> query, bool tcp)
    {
        if (query.Length < 17)
        {
            return null;
        }

        var (name, at) = ReadName(query, 12);
        var type = BinaryPrimitives.ReadUInt16BigEndian(query[at..]);
        var typeName = type switch { 1 => "A", 28 => "AAAA", _ => type.ToString(CultureInfo.InvariantCulture) };
        Queries.Enqueue($"{name}/{typeName}/{(tcp ? "tcp" : "udp")}");
        var spec = Spec(name, typeName);
        if (spec == "silent")
        {
            return null;
        }

        var code = 0;
        var flags = 0x8080;
        var records = new List<byte[]>();
        if (spec is null)
        {
            code = NameError;
        }
        else if (spec == "lame")
        {
            flags = 0x8000;
        }
        else if (spec.StartsWith("tc|", StringComparison.Ordinal) && !tcp)
        {
            flags |= 0x0200;
        }
        else
        {
            code = Records(name, typeName, type, spec, records, depth: 0);
        }

        var response = new List<byte>(query[..(at + 4)].ToArray());
        var header = (ushort)(flags | (BinaryPrimitives.ReadUInt16BigEndian(query[2..]) & 0x0100) | code);
        response[2] = (byte)(header >> 8);
        response[3] = (byte)header;
        response[4] = 0;
        response[5] = 1;
        response[6] = 0;
        response[7] = (byte)records.Count;
        response[8] = response[9] = response[10] = response[11] = 0;
        foreach (var record in records)
        {
            response.AddRange(record);
        }

        return [.. response];
    }

    private string? Spec(string name, string typeName) =>
        _script.TryGetValue($"{name}/{typeName}", out var typed) ? typed : _script.GetValueOrDefault(name);

    /// <summary>Adds the records <paramref name="spec"/> gives for <paramref name="owner"/> and returns the RCODE.</summary>
    private int Records(string owner, string typeName, ushort type, string spec, List<byte[]> records, int depth)
    {
        if (spec.StartsWith("cname:", StringComparison.Ordinal))
        {
            var target = spec[6..];
            records.Add(Record(owner, 5, EncodeName(target)));
            var next = Spec(target, typeName);
            return depth < 8 && next is not null && next != "silent" && next != "lame"
                ? Records(target, typeName, type, next, records, depth + 1)
                : 0;
        }

        if (spec.StartsWith("stray:", StringComparison.Ordinal))
        {
            var parts = spec[6..].Split('|');
            AddAddresses(parts[0], type, parts[1], records);
            return 0;
        }

        var fields = spec.Split('|');
        if (fields[0] == "tc")
        {
            AddAddresses(owner, type, fields[1], records);
            return 0;
        }

        var code = int.Parse(fields[0], CultureInfo.InvariantCulture);
        if (code == 0 && fields.Length > 1)
        {
            AddAddresses(owner, type, fields[1], records);
        }

        return code;
    }

    private static void AddAddresses(string owner, ushort type, string addresses, List<byte[]> records)
    {
        foreach (var address in addresses.Split(',').Select(IPAddress.Parse))
        {
            if ((type == 1 && address.AddressFamily == AddressFamily.InterNetwork) || (type == 28 && address.AddressFamily == AddressFamily.InterNetworkV6))
            {
                records.Add(Record(owner, type, address.GetAddressBytes()));
            }
        }
    }

    private static byte[] Record(string owner, ushort type, byte[] data)
    {
        var record = new List<byte>(EncodeName(owner)) { 0, (byte)type, 0, 1, 0, 0, 0, 60, (byte)(data.Length >> 8), (byte)data.Length };
        record.AddRange(data);
        return [.. record];
    }

    private static byte[] EncodeName(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    private static (string Name, int End) ReadName(ReadOnlySpan<byte> message, int at)
    {
        var labels = new List<string>();
        while (at < message.Length && message[at] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(message.Slice(at + 1, message[at])));
            at += message[at] + 1;
        }

        return (string.Join('.', labels), at + 1);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _udpLoop;
        await _tcpLoop;
        _udp.Dispose();
        _tcp.Dispose();
        _stop.Dispose();
    }
}
