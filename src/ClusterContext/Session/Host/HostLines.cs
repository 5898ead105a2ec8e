using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;

namespace ClusterContext.Session.Host;

/// <summary>
/// The session host's few messages: one JSON object a line, before a connection becomes a session with the agent
/// (or, for a process's control connection, for its whole life). Read a byte at a time, so not one byte of the agent's
/// protocol that follows is taken.
/// </summary>
internal static class HostLines
{
    private const int MaxLine = 64 * 1024;

    public static async Task WriteAsync(Socket socket, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        var data = buffer.WrittenMemory;
        while (data.Length > 0)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
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
        var one = new byte[1];
        while (true)
        {
            var read = await socket.ReceiveAsync(one, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return line.WrittenCount == 0 ? null : throw new IOException("The session host closed the connection in the middle of a message.");
            }

            if (one[0] == (byte)'\n')
            {
                try
                {
                    return JsonDocument.Parse(line.WrittenMemory);
                }
                catch (JsonException ex)
                {
                    throw new IOException($"The session host's peer sent something that is not its protocol ({ex.Message}).", ex);
                }
            }

            if (line.WrittenCount >= MaxLine)
            {
                throw new IOException("The session host's peer sent a line longer than 64 KiB.");
            }

            line.Write(one);
        }
    }

    public static string? String(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
