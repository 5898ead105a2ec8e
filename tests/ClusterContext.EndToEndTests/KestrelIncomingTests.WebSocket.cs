using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.EndToEndTests;

public sealed partial class KestrelIncomingTests
{
    [Fact]
    public async Task A_WebSocket_upgrade_the_filter_matches_reaches_Kestrel_and_echoes_while_one_that_does_not_gets_the_pod_app()
    {
        var port = KestrelApp.FreePort();
        var agentsBefore = await AgentsGoneAsync();
        await using var app = await KestrelApp.StartAsync(fixture.Kubeconfig, $$"""
            { "network": { "incoming": { "mode": "steal", "portMapping": { "{{port}}": 8080 }, "httpFilter": { "header": "^x-dev: alice$" } } } }
            """, [port]);

        var matched = await WebSocketAsync("x-dev: alice");
        Assert.True(matched.GetProperty("status").GetString()!.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal), matched.ToString());
        // The accept key is the one RFC 6455 derives from the client's key.
        var key = matched.GetProperty("key").GetString()!;
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 for the handshake; nothing here is secured by it
        var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        Assert.Equal(expected, matched.GetProperty("accept").GetString());
        Assert.Equal(["hello", "a second message, a little longer than the first"], matched.GetProperty("echoes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(8, matched.GetProperty("close").GetInt32());

        // Without the header the pod's app (which speaks no WebSocket) answers as it always does.
        var other = await WebSocketAsync("x-dev: bob");
        Assert.StartsWith("HTTP/1.1 200 ", other.GetProperty("status").GetString(), StringComparison.Ordinal);
        Assert.Equal(SandboxCluster.AppBody, other.GetProperty("rest").GetString());

        await StopAndCheckNothingIsLeftAsync(app, agentsBefore);
    }

    private async Task<JsonElement> WebSocketAsync(string header)
    {
        var result = await Cluster.RunInClientAsync("/usr/bin/python3", ["-c", WebSocketClient, SandboxCluster.OrdersHost, $"{SandboxCluster.AppPort}", header]);
        Assert.True(result.ExitCode == 0, result.StandardError);
        return JsonSerializer.Deserialize<JsonElement>(result.StandardOutput);
    }

    /// <summary>
    /// A WebSocket client on a raw socket (Python's standard library has none): the upgrade with the given header;
    /// on 101, two masked text frames and a close, and what came back; otherwise the rest of the answer.
    /// </summary>
    private const string WebSocketClient = """
        import base64, json, os, socket, sys
        host, port, header = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        s = socket.create_connection((host, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{header}\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        result = {"status": lines[0], "key": key, "accept": headers.get("sec-websocket-accept")}

        def exactly(n):
            global data
            while len(data) < n:
                chunk = s.recv(4096)
                if not chunk:
                    raise EOFError("the connection ended inside a frame")
                data += chunk
            taken, data = data[:n], data[n:]
            return taken

        def send(opcode, payload):
            mask = os.urandom(4)
            s.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

        def receive():
            first, second = exactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(exactly(2), "big")
            return first & 0x0F, exactly(length)

        if lines[0].split(" ")[1] == "101":
            echoes = []
            for message in ["hello", "a second message, a little longer than the first"]:
                send(1, message.encode())
                opcode, payload = receive()
                echoes.append(payload.decode() if opcode == 1 else f"opcode {opcode}")
            send(8, (1000).to_bytes(2, "big"))
            result["echoes"] = echoes
            result["close"] = receive()[0]
        else:
            # The rest of the answer, until the server closes (or, if it keeps the connection, goes quiet).
            s.settimeout(2)
            try:
                while chunk := s.recv(4096):
                    data += chunk
            except TimeoutError:
                pass
            result["rest"] = data.decode()
        print(json.dumps(result))
        """;
}
