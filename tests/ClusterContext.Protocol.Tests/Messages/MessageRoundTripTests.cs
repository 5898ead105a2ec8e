using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;

namespace ClusterContext.Protocol.Tests.Messages;

public class MessageRoundTripTests
{
    private static readonly Config Config = Config.QuickThrowOnFailure.WithMaxTest(2000);

    [Fact]
    public void Every_message_round_trips_to_an_equal_message()
    {
        Check.One(Config, Prop.ForAll(MessageGenerators.Arbitrary, message =>
        {
            var encoded = MessageCodec.Encode(message);
            var decoded = MessageCodec.Read(encoded);
            return DeepEquality.AreEqual(message, decoded) && MessageCodec.Encode(decoded).AsSpan().SequenceEqual(encoded);
        }));
    }

    [Fact]
    public void The_generator_covers_every_message_kind()
    {
        var seen = Gen.Sample(MessageGenerators.Any, 5000).Select(m => m.Kind).ToHashSet();
        Assert.Equal(MessageGenerators.AllKinds.OrderBy(k => k), seen.OrderBy(k => k));
    }

    [Fact]
    public void Every_truncation_of_a_message_is_a_protocol_error()
    {
        Check.One(Config.WithMaxTest(300), Prop.ForAll(MessageGenerators.Arbitrary, message =>
        {
            var encoded = MessageCodec.Encode(message);
            for (var length = 0; length < encoded.Length; length++)
            {
                var prefix = encoded[..length];
                var error = Assert.Throws<ProtocolException>(() => MessageCodec.Read(prefix));
                Assert.Equal(ErrorCode.ProtocolError, error.Code);
            }
        }));
    }

    [Fact]
    public void Trailing_bytes_are_a_protocol_error()
    {
        Check.One(Config, Prop.ForAll(MessageGenerators.Arbitrary, message =>
        {
            byte[] padded = [.. MessageCodec.Encode(message), 0];
            Assert.Throws<ProtocolException>(() => MessageCodec.Read(padded));
        }));
    }

    [Fact]
    public void Random_bytes_decode_to_a_message_or_a_protocol_error_and_nothing_else()
    {
        var garbage = ArbMap.Default.ArbFor<byte[]>();
        Check.One(Config.WithMaxTest(20_000), Prop.ForAll(garbage, bytes =>
        {
            try
            {
                MessageCodec.Read(bytes);
            }
            catch (ProtocolException)
            {
            }
        }));
    }

    [Fact]
    public void A_length_prefix_larger_than_the_payload_is_refused_without_allocating_it()
    {
        // Ping with a declared length of 4 GiB - 1 and no bytes behind it.
        byte[] hostile = [0, (byte)MessageKind.Ping, 0xff, 0xff, 0xff, 0xff];
        var error = Assert.Throws<ProtocolException>(() => MessageCodec.Read(hostile));
        Assert.Contains("exceeds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_a_protocol_error()
    {
        byte[] hostile = [0, (byte)MessageKind.ReadLink, 0, 0, 0, 2, 0xc3, 0x28];
        Assert.Throws<ProtocolException>(() => MessageCodec.Read(hostile));
    }

    [Fact]
    public void Unknown_kinds_are_refused()
    {
        var error = Assert.Throws<ProtocolException>(() => MessageCodec.Read([0xbe, 0xef]));
        Assert.Equal(ErrorCode.UnknownRequest, error.Code);
    }

    [Fact]
    public async Task Datagrams_keep_their_boundaries_and_addresses_on_a_byte_stream()
    {
        var remote = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.0.0.7"), 5353);
        using var stream = new MemoryStream();
        await DatagramCodec.WriteAsync(stream, remote, new byte[] { 1, 2, 3 });
        await DatagramCodec.WriteAsync(stream, new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Loopback, 53), Array.Empty<byte>());
        await DatagramCodec.WriteAsync(stream, remote, new byte[DatagramCodec.MaxDatagram]);
        stream.Position = 0;

        var first = await DatagramCodec.ReadAsync(stream);
        var second = await DatagramCodec.ReadAsync(stream);
        var third = await DatagramCodec.ReadAsync(stream);
        Assert.Equal(remote, first!.Value.Remote);
        Assert.Equal(new byte[] { 1, 2, 3 }, first.Value.Datagram);
        Assert.Equal(System.Net.IPAddress.IPv6Loopback, second!.Value.Remote.Address);
        Assert.Empty(second.Value.Datagram);
        Assert.Equal(DatagramCodec.MaxDatagram, third!.Value.Datagram.Length);
        Assert.Null(await DatagramCodec.ReadAsync(stream));
    }
}
