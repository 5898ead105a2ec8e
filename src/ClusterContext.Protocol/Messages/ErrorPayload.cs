using System.Buffers;

namespace ClusterContext.Protocol.Messages;

/// <summary>The payload of error and reset frames: a code and a human-readable message.</summary>
internal readonly record struct ErrorPayload(ErrorCode Code, string Message)
{
    /// <summary>Encodes the payload.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(8 + Message.Length);
        var writer = new PayloadWriter(buffer);
        writer.WriteUInt16((ushort)Code);
        // A message is for humans; cut it rather than fail to report the error.
        writer.WriteString(Message.Length > 4096 ? Message[..4096] : Message);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes the payload.</summary>
    public static ErrorPayload Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var code = (ErrorCode)reader.ReadUInt16();
        var message = reader.ReadString();
        reader.EnsureEnd();
        return new ErrorPayload(code, message);
    }
}
