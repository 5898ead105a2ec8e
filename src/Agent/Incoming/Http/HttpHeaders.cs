namespace ClusterContext.Agent.Incoming.Http;

/// <summary>Lookups over a parsed head's header list (names already lower-cased).</summary>
internal static class HttpHeaders
{
    public static string? Find(IReadOnlyList<KeyValuePair<string, string>> headers, string name)
    {
        foreach (var (key, value) in headers)
        {
            if (key == name)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>True when any <paramref name="name"/> header lists <paramref name="token"/> (comma-separated, case-insensitive).</summary>
    public static bool HasToken(IReadOnlyList<KeyValuePair<string, string>> headers, string name, string token)
    {
        foreach (var (key, value) in headers)
        {
            if (key != name)
            {
                continue;
            }

            foreach (var part in value.Split(','))
            {
                if (part.Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    public static bool KeepAlive(IReadOnlyList<KeyValuePair<string, string>> headers, int minorVersion) =>
        minorVersion >= 1 ? !HasToken(headers, "connection", "close") : HasToken(headers, "connection", "keep-alive");
}
