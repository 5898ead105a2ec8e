using System.Net;
using ClusterContext.Testing.Sandbox.Network;

namespace ClusterContext.Testing.Sandbox.Tests;

public sealed class DnsMessageTests
{
    [Fact]
    public void Response_with_a_compressed_answer_yields_its_address()
    {
        var query = DnsMessage.CreateQuery(0x1234, "redis.shop.svc.cluster.local");
        byte[] answer = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 241, 7, 20]; // pointer to the question's name
        var response = query.Concat(answer).ToArray();
        response[2] = 0x85; // response, authoritative, recursion desired
        response[7] = 1; // one answer

        var result = DnsMessage.ParseResponse(response, 0x1234);

        Assert.Equal(0, result.ResponseCode);
        Assert.Equal([IPAddress.Parse("10.241.7.20")], result.Addresses);
    }

    [Fact]
    public void Truncated_or_foreign_responses_are_rejected()
    {
        var query = DnsMessage.CreateQuery(7, "a.cluster.local");
        var response = (byte[])query.Clone();
        response[2] |= 0x80;

        Assert.Throws<InvalidDataException>(() => DnsMessage.ParseResponse(response.AsSpan(0, 14), 7));
        Assert.Throws<InvalidDataException>(() => DnsMessage.ParseResponse(response, 8));
        Assert.Throws<InvalidDataException>(() => DnsMessage.ParseResponse(query, 7));
    }
}
