namespace ClusterContext.Protocol.Messages;

/// <summary>
/// Which HTTP requests a subscription takes: a regular expression on one of a request's parts, or all/any of other
/// filters. <c>Header</c> is matched against each <c>name: value</c> line, <c>Path</c> against the path and query,
/// <c>Method</c> against the method. A subscription without a filter takes the whole port, HTTP or not.
/// </summary>
/// <param name="Kind">The filter's kind.</param>
/// <param name="Pattern">The regular expression (.NET syntax), for <c>Header</c>, <c>Path</c> and <c>Method</c>; empty otherwise.</param>
/// <param name="Filters">The filters combined, for <c>AllOf</c> and <c>AnyOf</c>; empty otherwise.</param>
internal sealed record HttpFilter(HttpFilterKind Kind, string Pattern, IReadOnlyList<HttpFilter> Filters)
{
    /// <summary>The deepest nesting accepted on the wire, so a hostile peer cannot exhaust the reader's stack.</summary>
    public const int MaxDepth = 8;

    internal void Write(PayloadWriter writer)
    {
        writer.WriteByte((byte)Kind);
        writer.WriteString(Pattern);
        writer.WriteList(Filters, static (w, f) => f.Write(w));
    }

    internal static HttpFilter Read(ref PayloadReader reader, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Malformed message: an HTTP filter nested deeper than {MaxDepth}.");
        }

        var kind = (HttpFilterKind)reader.ReadByte();
        if (!Enum.IsDefined(kind))
        {
            throw new ProtocolException(ErrorCode.ProtocolError, $"Malformed message: unknown HTTP filter kind {(byte)kind}.");
        }

        var pattern = reader.ReadString();
        var filters = reader.ReadList((ref PayloadReader r) => Read(ref r, depth + 1));
        return new HttpFilter(kind, pattern, filters);
    }

    /// <inheritdoc/>
    public bool Equals(HttpFilter? other) =>
        other is not null && Kind == other.Kind && Pattern == other.Pattern && Filters.SequenceEqual(other.Filters);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Pattern, Filters.Count);
}
