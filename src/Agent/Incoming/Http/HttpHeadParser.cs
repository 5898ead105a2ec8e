using System.Buffers;
using System.Globalization;
using System.Text;

namespace ClusterContext.Agent.Incoming.Http;

/// <summary>
/// Parses HTTP/1.x request and response heads (RFC 9112) just far enough to route a request and to find where its
/// body and its response end. Strict where a lenient reading would let two parsers disagree about message bounds
/// (conflicting Content-Length, obsolete line folding, a Transfer-Encoding not ending in chunked on a request).
/// </summary>
internal static class HttpHeadParser
{
    /// <summary>The largest head accepted; Kestrel's default request-header limit is 32 KB, so this leaves room.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    public static HeadStatus TryParseRequest(in ReadOnlySequence<byte> buffer, out HttpRequestHead? head)
    {
        head = null;
        var status = TryReadHead(buffer, out var lines, out var length);
        if (status != HeadStatus.Parsed)
        {
            return status;
        }

        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !IsToken(parts[0]) || parts[1].Length == 0 || !TryVersion(parts[2], out var minor)
            || !TryHeaders(lines, out var headers) || !TryRequestBody(headers, out var body))
        {
            return HeadStatus.Invalid;
        }

        head = new HttpRequestHead(parts[0], parts[1], minor, headers, length, body);
        return HeadStatus.Parsed;
    }

    public static HeadStatus TryParseResponse(in ReadOnlySequence<byte> buffer, string requestMethod, out HttpResponseHead? head)
    {
        head = null;
        var status = TryReadHead(buffer, out var lines, out var length);
        if (status != HeadStatus.Parsed)
        {
            return status;
        }

        var line = lines[0];
        if (line.Length < 12 || !TryVersion(line.AsSpan(0, 8), out var minor) || line[8] != ' '
            || !int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code < 100
            || (line.Length > 12 && line[12] != ' ') || !TryHeaders(lines, out var headers))
        {
            return HeadStatus.Invalid;
        }

        BodyFraming body;
        if (requestMethod == "HEAD" || code is < 200 or 204 or 304)
        {
            body = BodyFraming.Empty;
        }
        else if (HttpHeaders.Find(headers, "transfer-encoding") is { } coding)
        {
            body = EndsWithChunked(coding) ? new BodyFraming(BodyKind.Chunked, 0) : new BodyFraming(BodyKind.UntilClose, 0);
        }
        else if (!TryContentLength(headers, out var contentLength))
        {
            return HeadStatus.Invalid;
        }
        else
        {
            body = contentLength is { } n ? new BodyFraming(BodyKind.Length, n) : new BodyFraming(BodyKind.UntilClose, 0);
        }

        head = new HttpResponseHead(code, minor, headers, length, body);
        return HeadStatus.Parsed;
    }

    /// <summary>
    /// Whether the first bytes of a connection can still become an HTTP/1.x request line: a method token, a space,
    /// and so on. Used to tell HTTP from other protocols without waiting for a whole head.
    /// </summary>
    public static HeadStatus SniffRequestLine(ReadOnlySpan<byte> start)
    {
        var space = start.IndexOf((byte)' ');
        var methodEnd = space < 0 ? start.Length : space;
        for (var i = 0; i < methodEnd; i++)
        {
            if (!IsTokenChar((char)start[i]))
            {
                return HeadStatus.Invalid;
            }
        }

        if (space < 0)
        {
            return methodEnd > 32 ? HeadStatus.Invalid : HeadStatus.Incomplete;
        }

        if (space == 0)
        {
            return HeadStatus.Invalid;
        }

        var lineEnd = start.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            return start.Length > 16 * 1024 ? HeadStatus.Invalid : HeadStatus.Incomplete;
        }

        var line = start[..lineEnd];
        return line.Length > 9 && line[^9] == ' ' && line[^8..^1].SequenceEqual("HTTP/1."u8) ? HeadStatus.Parsed : HeadStatus.Invalid;
    }

    private static HeadStatus TryReadHead(in ReadOnlySequence<byte> buffer, out string[] lines, out int length)
    {
        lines = [];
        length = 0;
        var available = (int)Math.Min(buffer.Length, MaxHeadBytes);
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(available, 1));
        try
        {
            buffer.Slice(0, available).CopyTo(rented);
            var span = rented.AsSpan(0, available);
            var end = span.IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return available >= MaxHeadBytes ? HeadStatus.Invalid : HeadStatus.Incomplete;
            }

            length = end + 4;
            lines = Encoding.Latin1.GetString(span[..end]).Split("\r\n");
            foreach (var line in lines)
            {
                if (line.Contains('\n') || line.Contains('\r') || line.Contains('\0'))
                {
                    return HeadStatus.Invalid;
                }
            }

            return HeadStatus.Parsed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool TryHeaders(string[] lines, out List<KeyValuePair<string, string>> headers)
    {
        headers = new List<KeyValuePair<string, string>>(lines.Length - 1);
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':');
            if (colon <= 0 || !IsToken(line.AsSpan(0, colon)))
            {
                // Also refuses obsolete line folding (a line starting with whitespace): RFC 9112 section 5.2.
                return false;
            }

            headers.Add(new(line[..colon].ToLowerInvariant(), line[(colon + 1)..].Trim(' ', '\t')));
        }

        return true;
    }

    private static bool TryRequestBody(List<KeyValuePair<string, string>> headers, out BodyFraming body)
    {
        body = BodyFraming.Empty;
        if (HttpHeaders.Find(headers, "transfer-encoding") is { } coding)
        {
            // A request whose length the server must guess is one the original app and the agent could split apart.
            if (!EndsWithChunked(coding) || HttpHeaders.Find(headers, "content-length") is not null)
            {
                return false;
            }

            body = new BodyFraming(BodyKind.Chunked, 0);
            return true;
        }

        if (!TryContentLength(headers, out var length))
        {
            return false;
        }

        body = length is > 0 ? new BodyFraming(BodyKind.Length, length.Value) : BodyFraming.Empty;
        return true;
    }

    private static bool TryContentLength(List<KeyValuePair<string, string>> headers, out long? length)
    {
        length = null;
        foreach (var (name, value) in headers)
        {
            if (name != "content-length")
            {
                continue;
            }

            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || (length is { } seen && seen != parsed))
            {
                return false;
            }

            length = parsed;
        }

        return true;
    }

    private static bool EndsWithChunked(string coding)
    {
        var last = coding.Split(',')[^1].Trim();
        return last.Equals("chunked", StringComparison.OrdinalIgnoreCase);
    }

    private static bool TryVersion(ReadOnlySpan<char> text, out int minor)
    {
        minor = 0;
        if (text.Length != 8 || !text.StartsWith("HTTP/1.") || text[7] is not ('0' or '1'))
        {
            return false;
        }

        minor = text[7] - '0';
        return true;
    }

    private static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTokenChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
}
