using System.Text;

namespace ClusterContext.Agent.Incoming.Http2.Hpack;

/// <summary>
/// Encodes header lists as literals that never touch the dynamic table (RFC 7541 section 6.2.2, or 6.2.3 for fields
/// marked never indexed), without Huffman: the output depends on no state, so blocks for one connection may be made
/// in any order and any peer's table size is respected.
/// </summary>
internal static class HpackEncoder
{
    public static byte[] Encode(IReadOnlyList<HeaderField> fields)
    {
        var output = new List<byte>(256);
        foreach (var field in fields)
        {
            output.Add(field.NeverIndex ? (byte)0x10 : (byte)0x00);
            WriteString(output, field.Name);
            WriteString(output, field.Value);
        }

        return [.. output];
    }

    private static void WriteString(List<byte> output, string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        WriteInteger(output, 0x00, 7, bytes.Length);
        output.AddRange(bytes);
    }

    internal static void WriteInteger(List<byte> output, byte flags, int prefix, int value)
    {
        var mask = (1 << prefix) - 1;
        if (value < mask)
        {
            output.Add((byte)(flags | value));
            return;
        }

        output.Add((byte)(flags | mask));
        value -= mask;
        while (value >= 0x80)
        {
            output.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }

        output.Add((byte)value);
    }
}
