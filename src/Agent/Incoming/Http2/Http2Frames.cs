using System.Buffers;
using System.Buffers.Binary;

namespace ClusterContext.Agent.Incoming.Http2;

internal enum Http2FrameType : byte
{
    Data = 0,
    Headers = 1,
    Priority = 2,
    RstStream = 3,
    Settings = 4,
    PushPromise = 5,
    Ping = 6,
    GoAway = 7,
    WindowUpdate = 8,
    Continuation = 9,
}

/// <summary>Error codes of RFC 9113 section 7.</summary>
internal enum Http2ErrorCode : uint
{
    NoError = 0,
    ProtocolError = 1,
    InternalError = 2,
    FlowControlError = 3,
    StreamClosed = 5,
    FrameSizeError = 6,
    RefusedStream = 7,
    Cancel = 8,
    CompressionError = 9,
}

internal static class Http2Flags
{
    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte Priority = 0x20;
}

internal static class Http2Settings
{
    public const ushort HeaderTableSize = 1;
    public const ushort EnablePush = 2;
    public const ushort MaxConcurrentStreams = 3;
    public const ushort InitialWindowSize = 4;
    public const ushort MaxFrameSize = 5;
}

/// <summary>A frame's 9-byte header (RFC 9113 section 4.1).</summary>
internal readonly record struct Http2FrameHeader(int Length, Http2FrameType Type, byte Flags, int StreamId)
{
    public const int Size = 9;

    public bool Has(byte flag) => (Flags & flag) != 0;
}

/// <summary>Frame framing: parse from a read buffer, build whole frames for one write.</summary>
internal static class Http2Frames
{
    public static readonly byte[] ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>Takes one whole frame off <paramref name="buffer"/>; false when more bytes are needed.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out Http2FrameHeader header, out byte[] payload)
    {
        header = default;
        payload = [];
        if (buffer.Length < Http2FrameHeader.Size)
        {
            return false;
        }

        Span<byte> raw = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(raw);
        var length = (raw[0] << 16) | (raw[1] << 8) | raw[2];
        header = new Http2FrameHeader(length, (Http2FrameType)raw[3], raw[4], (int)(BinaryPrimitives.ReadUInt32BigEndian(raw[5..]) & 0x7FFFFFFF));
        if (length > maxFrameSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a {header.Type} frame of {length} bytes, above the {maxFrameSize} allowed");
        }

        if (buffer.Length < Http2FrameHeader.Size + length)
        {
            return false;
        }

        payload = buffer.Slice(Http2FrameHeader.Size, length).ToArray();
        buffer = buffer.Slice(Http2FrameHeader.Size + length);
        return true;
    }

    public static byte[] Build(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        WriteHeader(frame, payload.Length, type, flags, streamId);
        payload.CopyTo(frame.AsSpan(Http2FrameHeader.Size));
        return frame;
    }

    public static void WriteHeader(Span<byte> destination, int length, Http2FrameType type, byte flags, int streamId)
    {
        destination[0] = (byte)(length >> 16);
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)length;
        destination[3] = (byte)type;
        destination[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)streamId & 0x7FFFFFFF);
    }

    /// <summary>A header block as HEADERS then as many CONTINUATION frames as the peer's frame size needs, in one buffer.</summary>
    public static byte[] BuildHeaders(int streamId, ReadOnlySpan<byte> block, bool endStream, int maxFrameSize)
    {
        var frames = Math.Max(1, (block.Length + maxFrameSize - 1) / maxFrameSize);
        var output = new byte[(frames * Http2FrameHeader.Size) + block.Length];
        var at = 0;
        for (var i = 0; i < frames; i++)
        {
            var part = block.Slice(i * maxFrameSize, Math.Min(maxFrameSize, block.Length - (i * maxFrameSize)));
            var flags = (byte)((i == frames - 1 ? Http2Flags.EndHeaders : 0) | (i == 0 && endStream ? Http2Flags.EndStream : 0));
            WriteHeader(output.AsSpan(at), part.Length, i == 0 ? Http2FrameType.Headers : Http2FrameType.Continuation, flags, streamId);
            part.CopyTo(output.AsSpan(at + Http2FrameHeader.Size));
            at += Http2FrameHeader.Size + part.Length;
        }

        return output;
    }

    public static byte[] Settings(params (ushort Id, uint Value)[] settings)
    {
        var payload = new byte[settings.Length * 6];
        for (var i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(i * 6), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((i * 6) + 2), settings[i].Value);
        }

        return Build(Http2FrameType.Settings, 0, 0, payload);
    }

    public static byte[] WindowUpdate(int streamId, int increment)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)increment);
        return Build(Http2FrameType.WindowUpdate, 0, streamId, payload);
    }

    public static byte[] RstStream(int streamId, Http2ErrorCode code)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        return Build(Http2FrameType.RstStream, 0, streamId, payload);
    }

    public static byte[] GoAway(int lastStreamId, Http2ErrorCode code)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)code);
        return Build(Http2FrameType.GoAway, 0, 0, payload);
    }

    /// <summary>The payload without its padding (and, for HEADERS, without the priority fields, which are ignored).</summary>
    public static ReadOnlyMemory<byte> Unpad(Http2FrameHeader header, byte[] payload)
    {
        var start = 0;
        var padding = 0;
        if (header.Has(Http2Flags.Padded))
        {
            if (payload.Length < 1)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a padded frame without its pad length");
            }

            padding = payload[0];
            start = 1;
        }

        if (header.Type == Http2FrameType.Headers && header.Has(Http2Flags.Priority))
        {
            start += 5;
        }

        if (start + padding > payload.Length)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "padding longer than its frame");
        }

        return payload.AsMemory(start, payload.Length - start - padding);
    }
}
