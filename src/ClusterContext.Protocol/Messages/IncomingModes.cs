namespace ClusterContext.Protocol.Messages;

/// <summary>Reads an <see cref="IncomingMode"/>; an unknown value is a protocol error.</summary>
internal static class IncomingModes
{
    public static IncomingMode Read(ref PayloadReader reader)
    {
        var mode = (IncomingMode)reader.ReadByte();
        return Enum.IsDefined(mode) ? mode : throw new ProtocolException(ErrorCode.ProtocolError, $"Malformed message: unknown incoming mode {(byte)mode}.");
    }
}
