using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Agent.FunctionalTests;

/// <summary>
/// A name server in the pod's network namespace (UDP 53 on a loopback address of the pod) that answers each name as
/// a case says: addresses (A and AAAA by family; NOERROR without answers for the other), or a response code
/// (REFUSED, SERVFAIL); names it was not told of get NXDOMAIN. What glibc and the agent ask of it is the same server.
/// </summary>
internal sealed class ScriptedNameServer : IAsyncDisposable
{
    public const int Refused = 5;
    public const int ServerFailure = 2;
    private const int NameError = 3;

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<string, (int Code, IPAddress[] Addresses)> _names;

    public ScriptedNameServer(Socket podSocket, IPAddress address, Dictionary<string, (int Code, IPAddress[] Addresses)> names)
    {
        _socket = podSocket;
        _socket.Bind(new IPEndPoint(address, 53));
        _names = new(names, StringComparer.OrdinalIgnoreCase);
        _loop = ServeAsync();
    }

    private async Task ServeAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                if (Answer(buffer.AsSpan(0, received.ReceivedBytes)) is { } response)
                {
                    await _socket.SendToAsync(response, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private byte[]? Answer(ReadOnlySpan<byte> query)
    {
        if (query.Length < 17)
        {
            return null;
        }

        // The question: labels up to the root, then type and class.
        var labels = new List<string>();
        var at = 12;
        while (at < query.Length && query[at] != 0)
        {
            labels.Add(System.Text.Encoding.ASCII.GetString(query.Slice(at + 1, query[at])));
            at += query[at] + 1;
        }

        var questionEnd = at + 5;
        var type = BinaryPrimitives.ReadUInt16BigEndian(query[(at + 1)..]);
        var name = string.Join('.', labels);
        var (code, addresses) = _names.TryGetValue(name, out var entry) ? entry : (NameError, []);
        var matching = addresses.Where(a => (type == 1 && a.AddressFamily == AddressFamily.InterNetwork) || (type == 28 && a.AddressFamily == AddressFamily.InterNetworkV6)).ToList();
        var response = new List<byte>(query[..questionEnd].ToArray());
        var flags = (ushort)(0x8080 | (BinaryPrimitives.ReadUInt16BigEndian(query[2..]) & 0x0100) | code);
        response[2] = (byte)(flags >> 8);
        response[3] = (byte)flags;
        response[6] = 0;
        response[7] = (byte)(code == 0 ? matching.Count : 0);
        response[8] = response[9] = response[10] = response[11] = 0;
        if (code == 0)
        {
            foreach (var address in matching)
            {
                var data = address.GetAddressBytes();
                response.AddRange([0xC0, 0x0C, 0, (byte)type, 0, 1, 0, 0, 0, 60, 0, (byte)data.Length]);
                response.AddRange(data);
            }
        }

        return [.. response];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _socket.Dispose();
        _stop.Dispose();
    }
}
