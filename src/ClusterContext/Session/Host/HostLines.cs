using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;

namespace ClusterContext.Session.Host;

/// <summary>
/// The session host's few messages: one JSON object a line, before a connection becomes a session with the agent
/// (or, for a process's control connection, for its whole life). A line is taken from the socket up to its newline and
/// not a byte further (what is there is peeked at first), so not one byte of the agent's protocol that follows is taken.
/// </summary>
internal static class HostLines
{
    private const int MaxLine = 64 * 1024;

    public static async Task WriteAsync(Socket socket, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var data = Encode(write);
        while (data.Length > 0)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <summary>
    /// A line known in advance, on a blocking socket: for a process's start, which waits for it anyway (and so needs no
    /// JSON writer, whose first use costs more than the exchange).
    /// </summary>
    public static void Write(BlockingUnixSocket socket, ReadOnlySpan<byte> line)
    {
        Span<byte> data = stackalloc byte[line.Length + 1];
        line.CopyTo(data);
        data[^1] = (byte)'\n';
        socket.Write(data);
    }

    private static ReadOnlyMemory<byte> Encode(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenMemory;
    }

    /// <summary>Waits until the peer has said something: true, or false when it closed (or reset) the connection first.</summary>
    public static async Task<bool> PeekAsync(Socket socket, CancellationToken cancellationToken)
    {
        var one = new byte[1];
        try
        {
            return await socket.ReceiveAsync(one, SocketFlags.Peek, cancellationToken).ConfigureAwait(false) > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The next line as a JSON document, or null at the end of the connection.</summary>
    public static async Task<JsonDocument?> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var line = new ArrayBufferWriter<byte>(256);
        var chunk = new byte[4096];
        while (true)
        {
            var seen = await socket.ReceiveAsync(chunk, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
            if (Take(chunk, seen, line, count => socket.Receive(chunk, 0, count, SocketFlags.None)) is { } complete)
            {
                return complete.Length == 0 ? null : Parse(complete);
            }
        }
    }

    /// <summary><see cref="ReadAsync"/> on a blocking socket (its receive timeout bounds the wait).</summary>
    public static JsonDocument? Read(BlockingUnixSocket socket)
    {
        var line = new ArrayBufferWriter<byte>(256);
        var chunk = new byte[4096];
        while (true)
        {
            var seen = socket.Receive(chunk, peek: true);
            if (Take(chunk, seen, line, count => socket.Receive(chunk.AsSpan(0, count), peek: false)) is { } complete)
            {
                return complete.Length == 0 ? null : Parse(complete);
            }
        }
    }

    /// <summary>
    /// Takes what was peeked from the socket, up to and with the newline: the line without it once complete; an
    /// empty line at the end of the connection; null while the line goes on. <paramref name="receive"/> takes that
    /// many bytes from the socket into <paramref name="chunk"/>.
    /// </summary>
    private static ReadOnlyMemory<byte>? Take(byte[] chunk, int seen, ArrayBufferWriter<byte> line, Func<int, int> receive)
    {
        if (seen == 0)
        {
            return line.WrittenCount == 0 ? ReadOnlyMemory<byte>.Empty : throw new IOException("The session host closed the connection in the middle of a message.");
        }

        var newline = chunk.AsSpan(0, seen).IndexOf((byte)'\n');
        var count = newline < 0 ? seen : newline + 1;
        var taken = receive(count);
        if (taken != count)
        {
            throw new IOException("The session host's peer took back what it had sent.");
        }

        line.Write(chunk.AsSpan(0, newline < 0 ? count : newline));
        if (newline >= 0)
        {
            if (line.WrittenCount == 0)
            {
                throw new IOException("The session host's peer sent an empty line, which is not its protocol.");
            }

            return line.WrittenMemory;
        }

        return line.WrittenCount >= MaxLine ? throw new IOException("The session host's peer sent a line longer than 64 KiB.") : null;
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> line)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new IOException($"The session host's peer sent something that is not its protocol ({ex.Message}).", ex);
        }
    }

    public static string? String(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
