using System.Buffers.Binary;
using System.Net;
using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

public class DnsMessageTests
{
    [Fact]
    public void A_query_is_one_recursive_question_in_class_IN()
    {
        var query = DnsMessage.EncodeQuery(0xBEEF, "Redis.shop.", DnsRecordType.Aaaa);

        Assert.Equal(
            [
                0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                5, (byte)'R', (byte)'e', (byte)'d', (byte)'i', (byte)'s', 4, (byte)'s', (byte)'h', (byte)'o', (byte)'p', 0,
                0, 28, 0, 1,
            ],
            query);
        Assert.Equal(new FakeQuery(0xBEEF, 0x0100, "Redis.shop", DnsRecordType.Aaaa, false), FakeQuery.Parse(query, false));
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData("é.example")]
    public void Names_that_cannot_be_sent_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => DnsMessage.EncodeQuery(1, name, DnsRecordType.A));
    }

    [Fact]
    public void A_response_round_trips_with_its_cname_chain_and_smallest_ttl()
    {
        var query = FakeQuery.Parse(DnsMessage.EncodeQuery(7, "www.shop.example", DnsRecordType.A), false);
        var response = DnsResponseBuilder.Build(query.Id, query.Name, (ushort)query.Type,
        [
            new("www.shop.example", DnsRecordType.Cname, "web.shop.example", Ttl: 600),
            new("web.shop.example", DnsRecordType.Cname, "lb.cdn.example", Ttl: 120),
            new("lb.cdn.example", DnsRecordType.A, "192.0.2.1", Ttl: 300),
            new("lb.cdn.example", DnsRecordType.A, "192.0.2.2", Ttl: 60),
        ]);

        var decoded = DnsMessage.DecodeResponse(response, 7, "www.shop.example.", DnsRecordType.A);

        Assert.Equal(DnsResponseCode.NoError, decoded.ResponseCode);
        Assert.False(decoded.Truncated);
        Assert.Equal("lb.cdn.example", decoded.CanonicalName);
        Assert.Equal([IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2")], decoded.Addresses);
        Assert.Equal(60u, decoded.TtlSeconds);
    }

    [Fact]
    public void Only_records_of_the_canonical_name_type_and_class_count()
    {
        var response = DnsResponseBuilder.Build(9, "db.example", 28,
        [
            new("db.example", DnsRecordType.A, "192.0.2.9"),
            new("db.example", (DnsRecordType)16, "some text"),
            new("db.example", DnsRecordType.Aaaa, "2001:db8::9", Class: 3),
            new("other.example", DnsRecordType.Aaaa, "2001:db8::1"),
            new("DB.EXAMPLE", DnsRecordType.Aaaa, "2001:db8::2", Ttl: 0x8000_0000),
        ]);

        var decoded = DnsMessage.DecodeResponse(response, 9, "db.example", DnsRecordType.Aaaa);

        Assert.Equal([IPAddress.Parse("2001:db8::2")], decoded.Addresses);
        Assert.Equal("db.example", decoded.CanonicalName);
        Assert.Equal(0u, decoded.TtlSeconds);
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(2, false)]
    [InlineData(5, false)]
    [InlineData(0, true)]
    [InlineData(0, false)]
    [InlineData(11, false)]
    public void Response_code_and_truncation_are_reported_without_records(byte rcode, bool truncated)
    {
        var code = (DnsResponseCode)rcode;
        var response = DnsResponseBuilder.Build(3, "gone.example", 1, [], code, truncated);

        var decoded = DnsMessage.DecodeResponse(response, 3, "gone.example", DnsRecordType.A);

        Assert.Equal((code, truncated), (decoded.ResponseCode, decoded.Truncated));
        Assert.Empty(decoded.Addresses);
        Assert.Equal(0u, decoded.TtlSeconds);
    }

    [Fact]
    public void Question_names_are_compared_without_case()
    {
        var response = DnsResponseBuilder.Build(5, "REDIS.Shop", 1, [new("redis.shop", DnsRecordType.A, "10.0.0.5")]);

        Assert.Single(DnsMessage.DecodeResponse(response, 5, "redis.shop", DnsRecordType.A).Addresses);
    }

    [Fact]
    public void Only_the_response_to_the_query_is_accepted()
    {
        var response = DnsResponseBuilder.Build(5, "redis.shop", 1, [new("redis.shop", DnsRecordType.A, "10.0.0.5")]);
        var query = DnsMessage.EncodeQuery(5, "redis.shop", DnsRecordType.A);

        Assert.True(DnsMessage.IsResponseTo(response, 5));
        Assert.False(DnsMessage.IsResponseTo(response, 6));
        Assert.False(DnsMessage.IsResponseTo(query, 5));
        Assert.False(DnsMessage.IsResponseTo(response.AsSpan(0, 11), 5));
        Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(response, 6, "redis.shop", DnsRecordType.A));
        Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(query, 5, "redis.shop", DnsRecordType.A));
        Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(response, 5, "redis.other", DnsRecordType.A));
        Assert.Throws<InvalidDataException>(() => DnsMessage.DecodeResponse(response, 5, "redis.shop", DnsRecordType.Aaaa));
    }

    [Fact]
    public void Error_responses_may_leave_out_the_question()
    {
        var response = DnsResponseBuilder.Build(4, "x.example", 1, [], DnsResponseCode.FormatError);
        BinaryPrimitives.WriteUInt16BigEndian(response.AsSpan(4), 0);

        Assert.Equal(DnsResponseCode.FormatError, DnsMessage.DecodeResponse(response.AsSpan(0, 12), 4, "x.example", DnsRecordType.A).ResponseCode);
    }

    [Fact]
    public void Ids_vary()
    {
        var ids = Enumerable.Range(0, 64).Select(_ => DnsMessage.NewId()).Distinct().Count();

        Assert.True(ids > 32, $"only {ids} distinct ids out of 64");
    }
}
