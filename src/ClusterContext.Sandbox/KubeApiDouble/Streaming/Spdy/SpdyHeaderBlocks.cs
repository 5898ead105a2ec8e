using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ClusterContext.Testing.Kube.Streaming.Spdy;

/// <summary>
/// One direction's SPDY header compression context: every header block of a connection is part of one zlib
/// stream, flushed at each block's end. Reading inflates with SPDY's preset dictionary (which raw deflate cannot be
/// given, so the window is primed with a stored block of it, whose output is dropped); writing sends stored
/// blocks ended by a sync flush, which any inflater accepts with or without the dictionary.
/// </summary>
internal sealed class SpdyHeaderBlocks : IDisposable
{
    private readonly FeedStream _input = new();
    private readonly DeflateStream _inflater;
    private bool _readStarted;
    private bool _writeStarted;

    public SpdyHeaderBlocks()
    {
        _inflater = new DeflateStream(_input, CompressionMode.Decompress);
    }

    /// <summary>Inflates one header block and parses its name/value pairs (names lower case; several values joined by NUL).</summary>
    public Dictionary<string, string> Read(ReadOnlySpan<byte> block)
    {
        if (!_readStarted)
        {
            // zlib header: deflate method, and the preset dictionary flag with its Adler-32.
            if (block.Length < 6 || (block[0] & 0x0F) != 8 || (block[1] & 0x20) == 0 || BinaryPrimitives.ReadUInt32BigEndian(block[2..]) != SpdyDictionary.Adler32)
            {
                throw new InvalidDataException("the first SPDY header block is not zlib with the SPDY/3 dictionary");
            }

            _readStarted = true;
            var dictionary = SpdyDictionary.Bytes;
            var stored = new byte[5 + dictionary.Length];
            stored[0] = 0; // not final, stored
            BinaryPrimitives.WriteUInt16LittleEndian(stored.AsSpan(1), (ushort)dictionary.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(stored.AsSpan(3), (ushort)~dictionary.Length);
            dictionary.CopyTo(stored, 5);
            _input.Add(stored);
            _input.Add(block[6..].ToArray());
            _inflater.ReadExactly(new byte[dictionary.Length]);
        }
        else
        {
            _input.Add(block.ToArray());
        }

        var count = ReadUInt32();
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = ReadString();
            headers[name] = ReadString();
        }

        return headers;
    }

    /// <summary>A header block for <paramref name="headers"/> in stored deflate blocks, continuing this direction's zlib stream.</summary>
    public byte[] Write(IReadOnlyDictionary<string, string> headers)
    {
        var plain = new List<byte>();
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(number, (uint)headers.Count);
        plain.AddRange(number);
        foreach (var (name, value) in headers)
        {
            foreach (var part in new[] { name.ToLowerInvariant(), value })
            {
                var bytes = Encoding.UTF8.GetBytes(part);
                BinaryPrimitives.WriteUInt32BigEndian(number, (uint)bytes.Length);
                plain.AddRange(number);
                plain.AddRange(bytes);
            }
        }

        var output = new List<byte>();
        if (!_writeStarted)
        {
            _writeStarted = true;
            output.AddRange([0x78, 0x01]); // deflate, 32 KiB window, no dictionary
        }

        for (var offset = 0; offset < plain.Count; offset += ushort.MaxValue)
        {
            var length = Math.Min(ushort.MaxValue, plain.Count - offset);
            output.Add(0);
            output.AddRange([(byte)length, (byte)(length >> 8), (byte)~length, (byte)(~length >> 8)]);
            output.AddRange(plain.GetRange(offset, length));
        }

        // The sync flush's empty stored block: an inflater (Go's) hands out the block's data only when it sees it,
        // without reading on into the next frame.
        output.AddRange([0, 0, 0, 0xFF, 0xFF]);
        return [.. output];
    }

    public void Dispose() => _inflater.Dispose();

    private uint ReadUInt32()
    {
        Span<byte> bytes = stackalloc byte[4];
        _inflater.ReadExactly(bytes);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private string ReadString()
    {
        var length = ReadUInt32();
        if (length > 1 << 20)
        {
            throw new InvalidDataException($"a SPDY header of {length} bytes");
        }

        var bytes = new byte[length];
        _inflater.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>What the inflater reads: the compressed blocks handed to it so far (never more than one block's worth is asked for).</summary>
    private sealed class FeedStream : Stream
    {
        private readonly Queue<byte[]> _chunks = new();
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Add(byte[] chunk)
        {
            if (chunk.Length > 0)
            {
                _chunks.Enqueue(chunk);
            }
        }

        public override int Read(Span<byte> buffer)
        {
            if (!_chunks.TryPeek(out var chunk))
            {
                return 0;
            }

            var count = Math.Min(buffer.Length, chunk.Length - _offset);
            chunk.AsSpan(_offset, count).CopyTo(buffer);
            _offset += count;
            if (_offset == chunk.Length)
            {
                _chunks.Dequeue();
                _offset = 0;
            }

            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
