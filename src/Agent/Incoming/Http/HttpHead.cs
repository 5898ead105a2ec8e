namespace ClusterContext.Agent.Incoming.Http;

/// <summary>What the parser makes of the bytes so far.</summary>
internal enum HeadStatus
{
    Incomplete,
    Parsed,
    Invalid,
}

/// <summary>The parts of a request head the agent routes by; the bytes themselves are forwarded unchanged.</summary>
/// <param name="Headers">Names lower-cased, values without surrounding whitespace, in the order sent.</param>
/// <param name="Length">Bytes of the head, final empty line included.</param>
internal sealed record HttpRequestHead(string Method, string Target, int MinorVersion, IReadOnlyList<KeyValuePair<string, string>> Headers, int Length, BodyFraming Body)
{
    /// <summary>HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told to keep it.</summary>
    public bool KeepAlive => HttpHeaders.KeepAlive(Headers, MinorVersion);

    /// <summary>An <c>Upgrade</c> request (WebSocket): after a 101 both sides speak another protocol on the connection.</summary>
    public bool IsUpgrade => HttpHeaders.Find(Headers, "upgrade") is not null && HttpHeaders.HasToken(Headers, "connection", "upgrade");

    /// <summary>The path and query, also for a request in absolute form (<c>GET http://host/path</c>).</summary>
    public string PathAndQuery
    {
        get
        {
            var scheme = Target.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0 || Target.StartsWith('/'))
            {
                return Target;
            }

            var slash = Target.IndexOf('/', scheme + 3);
            return slash < 0 ? "/" : Target[slash..];
        }
    }
}

/// <summary>The parts of a response head that say how it ends and whether the connection goes on.</summary>
internal sealed record HttpResponseHead(int Status, int MinorVersion, IReadOnlyList<KeyValuePair<string, string>> Headers, int Length, BodyFraming Body)
{
    public bool KeepAlive => Body.Kind != BodyKind.UntilClose && HttpHeaders.KeepAlive(Headers, MinorVersion);

    public bool IsInterim => Status is >= 100 and < 200 and not 101;
}
