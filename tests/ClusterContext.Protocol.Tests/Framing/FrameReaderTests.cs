using System.Buffers;
using ClusterContext.Protocol.Framing;

namespace ClusterContext.Protocol.Tests.Framing;

public class FrameReaderTests
{
    [Fact]
    public void A_frame_is_read_only_when_complete()
    {
        var buffer = new ArrayBufferWriter<byte>();
        FrameWriter.Write(buffer, FrameType.Data, 7, new byte[] { 1, 2, 3 });
        var bytes = buffer.WrittenMemory;

        for (var length = 0; length < bytes.Length; length++)
        {
            var partial = new ReadOnlySequence<byte>(bytes[..length]);
            Assert.False(FrameReader.TryRead(ref partial, 1024, out _, out _));
        }

        var whole = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameReader.TryRead(ref whole, 1024, out var header, out var payload));
        Assert.Equal(new FrameHeader(3, FrameType.Data, 0, 7), header);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload.ToArray());
        Assert.True(whole.IsEmpty);
    }

    [Fact]
    public void An_oversized_frame_is_refused_from_its_header_alone()
    {
        Span<byte> header = stackalloc byte[FrameHeader.Size];
        new FrameHeader(int.MaxValue, FrameType.Data, 0, 1).Write(header);
        var sequence = new ReadOnlySequence<byte>(header.ToArray());

        var error = Assert.Throws<ProtocolException>(() => FrameReader.TryRead(ref sequence, ProtocolLimits.MaxFramePayload, out _, out _));
        Assert.Equal(ErrorCode.FrameTooLarge, error.Code);
    }

    [Fact]
    public void A_negative_length_is_refused()
    {
        var sequence = new ReadOnlySequence<byte>(new byte[] { 0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0, 0, 1 });
        Assert.Throws<ProtocolException>(() => FrameReader.TryRead(ref sequence, 1024, out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    [InlineData(255)]
    public void Unknown_frame_types_are_refused(byte type)
    {
        var sequence = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 0, type, 0, 0, 0, 0, 1 });
        var error = Assert.Throws<ProtocolException>(() => FrameReader.TryRead(ref sequence, 1024, out _, out _));
        Assert.Contains("Unknown frame type", error.Message, StringComparison.Ordinal);
    }
}
