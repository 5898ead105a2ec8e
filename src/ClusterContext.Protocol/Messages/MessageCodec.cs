using System.Buffers;
using System.Buffers.Binary;

namespace ClusterContext.Protocol.Messages;

/// <summary>Writes and reads whole messages (kind + body).</summary>
internal static class MessageCodec
{
    /// <summary>Writes the kind and the body of <paramref name="message"/>.</summary>
    public static void Write(IBufferWriter<byte> output, Message message)
    {
        var writer = new PayloadWriter(output);
        writer.WriteUInt16((ushort)message.Kind);
        message.WriteBody(writer);
    }

    /// <summary>Encodes a message into a new array.</summary>
    public static byte[] Encode(Message message)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a message; unknown kinds, truncation and trailing bytes are protocol errors.</summary>
    public static Message Read(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, "Malformed message: missing message kind.");
        }

        var kind = (MessageKind)BinaryPrimitives.ReadUInt16BigEndian(payload);
        var reader = new PayloadReader(payload[2..]);
        Message message = kind switch
        {
            MessageKind.Hello => HelloMessage.Read(ref reader),
            MessageKind.Welcome => WelcomeMessage.Read(ref reader),
            MessageKind.Ping => PingRequest.Read(ref reader),
            MessageKind.Pong => PingResponse.Read(ref reader),
            MessageKind.GetEnvironment => GetEnvironmentRequest.Read(ref reader),
            MessageKind.Environment => EnvironmentResponse.Read(ref reader),
            MessageKind.GetMounts => GetMountsRequest.Read(ref reader),
            MessageKind.Mounts => MountsResponse.Read(ref reader),
            MessageKind.Stat => StatRequest.Read(ref reader),
            MessageKind.StatResult => StatResponse.Read(ref reader),
            MessageKind.ReadDirectory => ReadDirectoryRequest.Read(ref reader),
            MessageKind.DirectoryEntries => ReadDirectoryResponse.Read(ref reader),
            MessageKind.ReadLink => ReadLinkRequest.Read(ref reader),
            MessageKind.LinkTarget => ReadLinkResponse.Read(ref reader),
            MessageKind.OpenRead => OpenReadRequest.Read(ref reader),
            MessageKind.OpenedRead => OpenReadResponse.Read(ref reader),
            MessageKind.WriteFile => WriteFileRequest.Read(ref reader),
            MessageKind.FileWritten => WriteFileResponse.Read(ref reader),
            MessageKind.Watch => WatchRequest.Read(ref reader),
            MessageKind.Watching => WatchResponse.Read(ref reader),
            MessageKind.Resolve => ResolveRequest.Read(ref reader),
            MessageKind.Resolved => ResolveResponse.Read(ref reader),
            MessageKind.GetResolverConfig => GetResolverConfigRequest.Read(ref reader),
            MessageKind.ResolverConfig => ResolverConfigResponse.Read(ref reader),
            MessageKind.TcpConnect => TcpConnectRequest.Read(ref reader),
            MessageKind.TcpConnected => TcpConnectResponse.Read(ref reader),
            MessageKind.UdpOpen => UdpOpenRequest.Read(ref reader),
            MessageKind.UdpOpened => UdpOpenResponse.Read(ref reader),
            MessageKind.Subscribe => SubscribeRequest.Read(ref reader),
            MessageKind.Subscribed => SubscribeResponse.Read(ref reader),
            MessageKind.Unsubscribe => UnsubscribeRequest.Read(ref reader),
            MessageKind.Unsubscribed => UnsubscribeResponse.Read(ref reader),
            MessageKind.IncomingConnection => IncomingConnectionRequest.Read(ref reader),
            MessageKind.IncomingConnected => IncomingConnectionResponse.Read(ref reader),
            _ => throw new ProtocolException(ErrorCode.UnknownRequest, $"Unknown message kind {(ushort)kind}."),
        };
        reader.EnsureEnd();
        return message;
    }
}
