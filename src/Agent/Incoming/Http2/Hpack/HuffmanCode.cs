namespace ClusterContext.Agent.Incoming.Http2.Hpack;

/// <summary>
/// The static Huffman code of RFC 7541 Appendix B. The code is canonical (codes of one length are consecutive, in
/// symbol order, shorter lengths first), so the code lengths alone define it; the decoding tree is built from them.
/// </summary>
internal static class HuffmanCode
{
    private const int Eos = 256;

    /// <summary>Code length in bits of each symbol 0..255 and EOS (256).</summary>
    private static readonly byte[] Lengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0-15
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16-31
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,         // ' ' .. '/'
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,              // '0' .. '?'
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                // '@' .. 'O'
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,             // 'P' .. '_'
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                // '`' .. 'o'
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,            // 'p' .. 127
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
        30,                                                             // EOS
    ];

    /// <summary>Each symbol's code, right-aligned, in the order of <see cref="Lengths"/>.</summary>
    internal static readonly uint[] Codes = BuildCodes();

    /// <summary>Binary tree: node i has children at [2i] (bit 0) and [2i+1] (bit 1); a child &lt; 0 is the leaf ~symbol.</summary>
    private static readonly int[] Tree = BuildTree();

    internal static int LengthOf(int symbol) => Lengths[symbol];

    private static uint[] BuildCodes()
    {
        var codes = new uint[Lengths.Length];
        uint code = 0;
        var length = 0;
        for (var bits = 1; bits <= 30; bits++)
        {
            for (var symbol = 0; symbol < Lengths.Length; symbol++)
            {
                if (Lengths[symbol] != bits)
                {
                    continue;
                }

                code <<= bits - length;
                length = bits;
                codes[symbol] = code++;
            }
        }

        return codes;
    }

    private static int[] BuildTree()
    {
        var tree = new List<int> { 0, 0 };
        for (var symbol = 0; symbol < Lengths.Length; symbol++)
        {
            var node = 0;
            for (var bit = Lengths[symbol] - 1; bit >= 0; bit--)
            {
                var slot = (2 * node) + (int)((Codes[symbol] >> bit) & 1);
                if (bit == 0)
                {
                    tree[slot] = ~symbol;
                }
                else
                {
                    if (tree[slot] == 0)
                    {
                        tree[slot] = tree.Count / 2;
                        tree.Add(0);
                        tree.Add(0);
                    }

                    node = tree[slot];
                }
            }
        }

        return [.. tree];
    }

    /// <summary>Decodes a Huffman-coded string literal; padding must be fewer than 8 bits, all ones (an EOS prefix).</summary>
    public static byte[] Decode(ReadOnlySpan<byte> source)
    {
        var output = new List<byte>(source.Length * 8 / 5);
        var node = 0;
        var depth = 0;
        var allOnes = true;
        foreach (var b in source)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var one = (b >> bit) & 1;
                var next = Tree[(2 * node) + one];
                depth++;
                allOnes &= one == 1;
                if (next < 0)
                {
                    if (~next == Eos)
                    {
                        throw new InvalidDataException("HPACK: EOS inside a Huffman-coded string.");
                    }

                    output.Add((byte)~next);
                    node = 0;
                    depth = 0;
                    allOnes = true;
                }
                else if (next == 0)
                {
                    throw new InvalidDataException("HPACK: invalid Huffman code.");
                }
                else
                {
                    node = next;
                }
            }
        }

        if (depth > 7 || !allOnes)
        {
            throw new InvalidDataException("HPACK: Huffman padding is not an EOS prefix.");
        }

        return [.. output];
    }
}
