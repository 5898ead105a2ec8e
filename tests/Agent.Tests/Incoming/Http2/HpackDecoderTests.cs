using ClusterContext.Agent.Incoming.Http2.Hpack;

namespace ClusterContext.Agent.Tests.Incoming.Http2;

/// <summary>The examples of RFC 7541 Appendix C, decoded in order on one decoder as the RFC does, table state included.</summary>
public class HpackDecoderTests
{
    [Fact]
    public void The_RFC_requests_without_Huffman_decode_in_order_and_fill_the_dynamic_table()
    {
        var decoder = new HpackDecoder();
        AssertFields(decoder.Decode(Hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")),
            ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com");
        Assert.Equal(57, decoder.DynamicSize);
        AssertFields(decoder.Decode(Hex("8286 84be 5808 6e6f 2d63 6163 6865")),
            ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", "cache-control: no-cache");
        Assert.Equal(110, decoder.DynamicSize);
        AssertFields(decoder.Decode(Hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")),
            ":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com", "custom-key: custom-value");
        Assert.Equal(3, decoder.DynamicCount);
        Assert.Equal(164, decoder.DynamicSize);
    }

    [Fact]
    public void The_RFC_requests_with_Huffman_decode_to_the_same_fields()
    {
        var decoder = new HpackDecoder();
        AssertFields(decoder.Decode(Hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")),
            ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com");
        AssertFields(decoder.Decode(Hex("8286 84be 5886 a8eb 1064 9cbf")),
            ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", "cache-control: no-cache");
        AssertFields(decoder.Decode(Hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")),
            ":method: GET", ":scheme: https", ":path: /index.html", ":authority: www.example.com", "custom-key: custom-value");
        Assert.Equal(164, decoder.DynamicSize);
    }

    [Fact]
    public void The_RFC_responses_evict_the_oldest_entries_of_a_256_byte_table()
    {
        // RFC 7541 C.6: responses with Huffman coding, the table limited to 256 bytes, so each response evicts.
        var decoder = new HpackDecoder(256);
        decoder.Decode(Hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"));
        Assert.Equal(222, decoder.DynamicSize);
        AssertFields(decoder.Decode(Hex("4883 640e ffc1 c0bf")),
            ":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT", "location: https://www.example.com");
        Assert.Equal(222, decoder.DynamicSize);
        var third = decoder.Decode(Hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"));
        AssertFields(third,
            ":status: 200", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:22 GMT", "location: https://www.example.com",
            "content-encoding: gzip", "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1");
        Assert.Equal(3, decoder.DynamicCount);
        Assert.Equal(215, decoder.DynamicSize);
    }

    [Fact]
    public void A_never_indexed_field_keeps_its_mark_and_stays_out_of_the_table()
    {
        var decoder = new HpackDecoder();
        var field = Assert.Single(decoder.Decode(Hex("1008 7061 7373 776f 7264 0673 6563 7265 74")));
        Assert.Equal(new HeaderField("password", "secret", NeverIndex: true), field);
        Assert.Equal(0, decoder.DynamicCount);
        Assert.Equal(Hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), HpackEncoder.Encode([field]));
    }

    [Fact]
    public void Integers_with_a_prefix_read_as_the_RFC_encodes_them()
    {
        var position = 0;
        Assert.Equal(1337, HpackDecoder.ReadInteger(Hex("1f 9a 0a"), ref position, 5));
        Assert.Equal(3, position);
        var written = new List<byte>();
        HpackEncoder.WriteInteger(written, 0, 5, 1337);
        Assert.Equal(Hex("1f 9a 0a"), written.ToArray());
    }

    [Fact]
    public void A_size_update_evicts_and_a_size_above_the_limit_is_an_error()
    {
        var decoder = new HpackDecoder();
        decoder.Decode(Hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        Assert.Equal(1, decoder.DynamicCount);
        Assert.Empty(decoder.Decode(Hex("20")));
        Assert.Equal(0, decoder.DynamicCount);
        Assert.Throws<InvalidDataException>(() => new HpackDecoder().Decode(Hex("3fe2 1f"))); // 4097
        Assert.Throws<InvalidDataException>(() => new HpackDecoder().Decode(Hex("82 20"))); // an update after a field
    }

    [Theory]
    [InlineData("be")] // index 62 with an empty dynamic table
    [InlineData("80")] // index 0
    [InlineData("0085 f2b2 4a87 ff")] // Huffman padding longer than 7 bits
    [InlineData("0081 fe")] // padding that is not all ones
    [InlineData("008f ffff ffff ffff ffff ffff ffff ffff ff")] // EOS inside the string
    [InlineData("000a 6375")] // a string longer than its block
    [InlineData("1f ff ff ff ff 0f")] // an integer that would overflow
    public void Malformed_blocks_are_compression_errors(string hex) =>
        Assert.Throws<InvalidDataException>(() => new HpackDecoder().Decode(Hex(hex)));

    [Fact]
    public void Every_octet_round_trips_through_the_Huffman_code_and_the_code_is_complete()
    {
        // Kraft's sum over all 257 codes is exactly 1: the code has no gaps and no overlaps.
        var kraft = Enumerable.Range(0, 257).Sum(s => Math.Pow(2, -HuffmanCode.LengthOf(s)));
        Assert.Equal(1.0, kraft, 12);

        // A few codes as the RFC prints them (right-aligned hex).
        Assert.Equal(0x1ff8u, HuffmanCode.Codes[0]);
        Assert.Equal(0x14u, HuffmanCode.Codes[' ']);
        Assert.Equal(0x3fffffffu, HuffmanCode.Codes[256]);
        Assert.Equal(0x7ffffeeu, HuffmanCode.Codes[252]);
        Assert.Equal(0xfffe6u, HuffmanCode.Codes[128]);

        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal(all, HuffmanCode.Decode(Encode(all)));
    }

    private static byte[] Encode(byte[] input)
    {
        var bits = new List<bool>();
        foreach (var b in input)
        {
            for (var i = HuffmanCode.LengthOf(b) - 1; i >= 0; i--)
            {
                bits.Add(((HuffmanCode.Codes[b] >> i) & 1) == 1);
            }
        }

        while (bits.Count % 8 != 0)
        {
            bits.Add(true);
        }

        return [.. bits.Chunk(8).Select(c => (byte)c.Aggregate(0, (acc, bit) => (acc << 1) | (bit ? 1 : 0)))];
    }

    private static void AssertFields(List<HeaderField> fields, params string[] expected) =>
        Assert.Equal(expected, fields.Select(f => $"{f.Name}: {f.Value}"));

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}
