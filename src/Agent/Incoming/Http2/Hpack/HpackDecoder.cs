using System.Text;

namespace ClusterContext.Agent.Incoming.Http2.Hpack;

/// <summary>
/// Decodes header blocks of one direction of one connection (RFC 7541): the dynamic table lives as long as the
/// connection, so blocks must be decoded in the order they arrived. Any malformed block is a connection error
/// (COMPRESSION_ERROR), thrown as <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class HpackDecoder
{
    public const int DefaultTableSize = 4096;

    /// <summary>Bounds one decoded header list, so a peer cannot make the agent hold more than this.</summary>
    private const int MaxHeaderListSize = 256 * 1024;

    // Newest first, as the dynamic table's indexes count (index 62 is the newest entry).
    private readonly List<HeaderField> _dynamic = [];
    private readonly int _maxTableSize;
    private int _capacity;
    private int _size;

    public HpackDecoder(int maxTableSize = DefaultTableSize)
    {
        _maxTableSize = maxTableSize;
        _capacity = maxTableSize;
    }

    /// <summary>Entries in the dynamic table, for tests.</summary>
    internal int DynamicCount => _dynamic.Count;

    internal int DynamicSize => _size;

    public List<HeaderField> Decode(ReadOnlySpan<byte> block)
    {
        var fields = new List<HeaderField>();
        var listSize = 0;
        var position = 0;
        var fieldsSeen = false;
        while (position < block.Length)
        {
            var first = block[position];
            HeaderField field;
            if ((first & 0x80) != 0)
            {
                field = Lookup(ReadInteger(block, ref position, 7));
            }
            else if ((first & 0xC0) == 0x40)
            {
                field = ReadLiteral(block, ref position, 6, false);
                Add(field);
            }
            else if ((first & 0xE0) == 0x20)
            {
                // A size update may only open a block (RFC 7541 section 4.2).
                if (fieldsSeen)
                {
                    throw new InvalidDataException("HPACK: dynamic table size update after a header field.");
                }

                var size = ReadInteger(block, ref position, 5);
                if (size > _maxTableSize)
                {
                    throw new InvalidDataException($"HPACK: table size {size} above the {_maxTableSize} allowed.");
                }

                _capacity = size;
                Evict(0);
                continue;
            }
            else
            {
                field = ReadLiteral(block, ref position, 4, (first & 0x10) != 0);
            }

            fieldsSeen = true;
            listSize += field.TableSize;
            if (listSize > MaxHeaderListSize)
            {
                throw new InvalidDataException("HPACK: header list too large.");
            }

            fields.Add(field);
        }

        return fields;
    }

    private HeaderField ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefix, bool neverIndex)
    {
        var index = ReadInteger(block, ref position, prefix);
        var name = index == 0 ? ReadString(block, ref position) : Lookup(index).Name;
        var value = ReadString(block, ref position);
        return new HeaderField(name, value, neverIndex);
    }

    private HeaderField Lookup(int index)
    {
        if (index >= 1 && index <= HpackStaticTable.Entries.Length)
        {
            return HpackStaticTable.Entries[index - 1];
        }

        var dynamic = index - HpackStaticTable.Entries.Length - 1;
        if (index < 1 || dynamic >= _dynamic.Count)
        {
            throw new InvalidDataException($"HPACK: index {index} is in neither table.");
        }

        var entry = _dynamic[dynamic];
        return entry with { NeverIndex = false };
    }

    private void Add(HeaderField field)
    {
        var entry = field with { NeverIndex = false };
        Evict(entry.TableSize);

        // An entry larger than the whole table empties it and is not added (RFC 7541 section 4.4).
        if (entry.TableSize <= _capacity)
        {
            _dynamic.Insert(0, entry);
            _size += entry.TableSize;
        }
    }

    private void Evict(int room)
    {
        while (_dynamic.Count > 0 && _size + room > _capacity)
        {
            _size -= _dynamic[^1].TableSize;
            _dynamic.RemoveAt(_dynamic.Count - 1);
        }
    }

    private static string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length)
        {
            throw new InvalidDataException("HPACK: string literal cut short.");
        }

        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new InvalidDataException("HPACK: string literal longer than its block.");
        }

        var raw = block.Slice(position, length);
        position += length;

        // Latin-1 maps every byte to one char and back: field values pass through byte for byte.
        return Encoding.Latin1.GetString(huffman ? HuffmanCode.Decode(raw) : raw);
    }

    /// <summary>An integer with an N-bit prefix (RFC 7541 section 5.1), bounded well below overflow.</summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefix)
    {
        if (position >= block.Length)
        {
            throw new InvalidDataException("HPACK: integer cut short.");
        }

        var mask = (1 << prefix) - 1;
        var value = block[position++] & mask;
        if (value < mask)
        {
            return value;
        }

        var shift = 0;
        while (true)
        {
            if (position >= block.Length)
            {
                throw new InvalidDataException("HPACK: integer cut short.");
            }

            var b = block[position++];
            value += (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }

            shift += 7;
            if (shift > 21)
            {
                throw new InvalidDataException("HPACK: integer too large.");
            }
        }
    }
}
