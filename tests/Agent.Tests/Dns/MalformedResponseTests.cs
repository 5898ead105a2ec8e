using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

/// <summary>Whatever arrives on the wire, decoding ends in <see cref="InvalidDataException"/> or a result, never in a hang or another exception.</summary>
public class MalformedResponseTests
{
    // Header (id 1, response, one question, one answer) and the question "a" A IN, which ends at offset 19.
    private static readonly byte[] Start = [0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 1, 0, 1];

    private static readonly byte[] Valid = DnsResponseBuilder.Build(1, "www.example", 1,
    [
        new("www.example", DnsRecordType.Cname, "web.example"),
        new("web.example", DnsRecordType.A, "192.0.2.1"),
        new("web.example", DnsRecordType.A, "192.0.2.2"),
    ]);

    [Fact]
    public void Every_truncation_of_a_valid_response_fails_cleanly()
    {
        Assert.Equal(2, DnsMessage.DecodeResponse(Valid, 1, "www.example", DnsRecordType.A).Addresses.Count);
        for (var length = 0; length < Valid.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(Valid.AsSpan(0, length), 1, "www.example", DnsRecordType.A));
        }
    }

    [Theory]
    [InlineData("loop", "C0 13")]
    [InlineData("loop", "C0 15 C0 13")]
    [InlineData("longer than 255", "01 62 C0 13")]
    [InlineData("outside the message", "C0 FF")]
    [InlineData("outside the message", "FF FF")]
    [InlineData("unsupported label type", "40 00")]
    [InlineData("unsupported label type", "80 00")]
    [InlineData("label runs past the end", "3F 61 00")]
    [InlineData("name runs past the end", "01 61")]
    [InlineData("name runs past the end", "C0")]
    public void Broken_answer_names_fail_cleanly(string problem, string answer)
    {
        var message = Start.Concat(Convert.FromHexString(answer.Replace(" ", "", StringComparison.Ordinal))).ToArray();

        var ex = Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(message, 1, "a", DnsRecordType.A));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_question_name_pointing_at_itself_fails_cleanly()
    {
        byte[] message = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];

        Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(message, 1, "a", DnsRecordType.A));
    }

    [Theory]
    [InlineData("does not match its length", "C0 0C 00 05 00 01 00 00 00 3C 00 04 01 62 00 00")]
    [InlineData("bytes needed", "C0 0C 00 01 00 01 00 00 00 3C 00 04 01 02")]
    [InlineData("bytes needed", "C0 0C 00 63 00 01 00 00 00 3C FF FF")]
    public void Broken_record_data_fails_cleanly(string problem, string answer)
    {
        var message = Start.Concat(Convert.FromHexString(answer.Replace(" ", "", StringComparison.Ordinal))).ToArray();

        var ex = Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(message, 1, "a", DnsRecordType.A));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_address_record_of_the_wrong_length_is_skipped_as_glibc_skips_it()
    {
        var message = Start.Concat(Convert.FromHexString("C00C000100010000003C00050102030405")).ToArray();

        Assert.Empty(DnsMessage.DecodeResponse(message, 1, "a", DnsRecordType.A).Addresses);
    }

    [Fact]
    public void A_cname_loop_gives_no_addresses()
    {
        var message = DnsResponseBuilder.Build(1, "a.example", 1,
        [
            new("a.example", DnsRecordType.Cname, "b.example"),
            new("b.example", DnsRecordType.Cname, "a.example"),
        ]);

        var response = DnsMessage.DecodeResponse(message, 1, "a.example", DnsRecordType.A);

        Assert.Empty(response.Addresses);
        Assert.True(response.HasAlias);
        Assert.Equal("a.example", response.CanonicalName);
    }

    [Fact]
    public void Random_corruption_never_escapes_as_another_exception()
    {
        // A fixed seed keeps the test deterministic; the point is breadth, not unpredictability.
#pragma warning disable CA5394
        var random = new Random(20240611);
        for (var i = 0; i < 20_000; i++)
        {
            var message = (byte[])Valid.Clone();
            for (var flips = random.Next(1, 5); flips > 0; flips--)
            {
                message[random.Next(message.Length)] = (byte)random.Next(256);
            }
#pragma warning restore CA5394

            try
            {
                DnsMessage.DecodeResponse(message, 1, "www.example", DnsRecordType.A);
            }
            catch (InvalidDataException)
            {
            }
        }
    }
}
