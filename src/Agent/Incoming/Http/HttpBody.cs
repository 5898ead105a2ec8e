using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;

namespace ClusterContext.Agent.Incoming.Http;

/// <summary>
/// Copies one message body from a reader to a stream byte for byte, stopping exactly at its end so the next
/// message on the connection stays in the reader. Chunked bodies are walked chunk by chunk, not re-encoded.
/// </summary>
internal static class HttpBody
{
    private const int MaxChunkLine = 4096;

    /// <summary>Copies the body; <paramref name="copy"/> (the mirror) sees the same bytes. False when the input ended early.</summary>
    public static async Task<bool> CopyAsync(PipeReader from, Stream to, BodyFraming framing, Action<ReadOnlySequence<byte>>? copy, CancellationToken ct)
    {
        switch (framing.Kind)
        {
            case BodyKind.None:
                return true;
            case BodyKind.Length:
                return await CopyCountAsync(from, to, framing.Length, copy, ct).ConfigureAwait(false);
            case BodyKind.Chunked:
                return await CopyChunkedAsync(from, to, copy, ct).ConfigureAwait(false);
            default:
                while (true)
                {
                    var result = await from.ReadAsync(ct).ConfigureAwait(false);
                    await WriteAsync(to, result.Buffer, copy, ct).ConfigureAwait(false);
                    from.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        return true;
                    }
                }
        }
    }

    private static async Task<bool> CopyCountAsync(PipeReader from, Stream to, long remaining, Action<ReadOnlySequence<byte>>? copy, CancellationToken ct)
    {
        while (remaining > 0)
        {
            var result = await from.ReadAsync(ct).ConfigureAwait(false);
            var take = result.Buffer.Slice(0, Math.Min(remaining, result.Buffer.Length));
            await WriteAsync(to, take, copy, ct).ConfigureAwait(false);
            remaining -= take.Length;
            from.AdvanceTo(take.End);
            if (remaining > 0 && result.IsCompleted)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<bool> CopyChunkedAsync(PipeReader from, Stream to, Action<ReadOnlySequence<byte>>? copy, CancellationToken ct)
    {
        while (true)
        {
            var line = await ReadLineAsync(from, to, copy, ct).ConfigureAwait(false);
            if (line is null)
            {
                return false;
            }

            var sizeText = line.Split(';')[0].Trim();
            if (!long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0)
            {
                throw new InvalidDataException($"Malformed chunk size line '{line}'.");
            }

            if (size == 0)
            {
                // Trailer fields, then the empty line that ends the message.
                while (true)
                {
                    var trailer = await ReadLineAsync(from, to, copy, ct).ConfigureAwait(false);
                    if (trailer is null)
                    {
                        return false;
                    }

                    if (trailer.Length == 0)
                    {
                        return true;
                    }
                }
            }

            if (!await CopyCountAsync(from, to, size, copy, ct).ConfigureAwait(false))
            {
                return false;
            }

            var end = await ReadLineAsync(from, to, copy, ct).ConfigureAwait(false);
            if (end is null)
            {
                return false;
            }

            if (end.Length != 0)
            {
                throw new InvalidDataException("A chunk's data is not followed by CRLF.");
            }
        }
    }

    /// <summary>Reads and forwards one CRLF-terminated line; returns it without the CRLF, or null at the end of input.</summary>
    private static async Task<string?> ReadLineAsync(PipeReader from, Stream to, Action<ReadOnlySequence<byte>>? copy, CancellationToken ct)
    {
        while (true)
        {
            var result = await from.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } newline)
            {
                var withNewline = buffer.Slice(0, buffer.GetPosition(1, newline));
                var text = Encoding.Latin1.GetString(withNewline).TrimEnd('\n').TrimEnd('\r');
                await WriteAsync(to, withNewline, copy, ct).ConfigureAwait(false);
                from.AdvanceTo(withNewline.End);
                return text;
            }

            if (buffer.Length > MaxChunkLine)
            {
                throw new InvalidDataException("A chunk line is longer than 4 KB.");
            }

            from.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>A message's head and whole body when <paramref name="buffer"/> holds all of it (no body, or a length-framed one); else null.</summary>
    public static ReadOnlySequence<byte>? WholeMessage(ReadOnlySequence<byte> buffer, int headLength, BodyFraming body) => body.Kind switch
    {
        BodyKind.None => buffer.Slice(0, headLength),
        BodyKind.Length when buffer.Length - headLength >= body.Length => buffer.Slice(0, headLength + body.Length),
        _ => null,
    };

    /// <summary>Writes <paramref name="bytes"/> with one write, however many segments they span.</summary>
    public static async ValueTask WriteCoalescedAsync(Stream to, ReadOnlySequence<byte> bytes, CancellationToken ct)
    {
        if (bytes.IsSingleSegment)
        {
            await to.WriteAsync(bytes.First, ct).ConfigureAwait(false);
            return;
        }

        var length = checked((int)bytes.Length);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            bytes.CopyTo(rented);
            await to.WriteAsync(rented.AsMemory(0, length), ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static async ValueTask WriteAsync(Stream to, ReadOnlySequence<byte> bytes, Action<ReadOnlySequence<byte>>? copy, CancellationToken ct)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        copy?.Invoke(bytes);
        foreach (var segment in bytes)
        {
            await to.WriteAsync(segment, ct).ConfigureAwait(false);
        }
    }
}
