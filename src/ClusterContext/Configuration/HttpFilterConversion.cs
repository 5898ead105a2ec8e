using ClusterContext.Protocol.Messages;

namespace ClusterContext.Configuration;

/// <summary>The configured filter as the protocol's tree: each condition a leaf, several on one object all of them.</summary>
internal static class HttpFilterConversion
{
    public static HttpFilter? ToProtocol(HttpFilterSettings? settings)
    {
        if (settings is null)
        {
            return null;
        }

        var parts = new List<HttpFilter>();
        if (settings.Header is { } header)
        {
            parts.Add(Leaf(HttpFilterKind.Header, header));
        }

        if (settings.Path is { } path)
        {
            parts.Add(Leaf(HttpFilterKind.Path, path));
        }

        if (settings.Method is { } method)
        {
            parts.Add(Leaf(HttpFilterKind.Method, method));
        }

        parts.AddRange(settings.AllOf.Select(f => ToProtocol(f)!));
        if (settings.AnyOf.Count > 0)
        {
            parts.Add(new HttpFilter(HttpFilterKind.AnyOf, "", [.. settings.AnyOf.Select(f => ToProtocol(f)!)]));
        }

        return parts.Count == 1 ? parts[0] : new HttpFilter(HttpFilterKind.AllOf, "", parts);
    }

    /// <summary>Levels of the tree: 1 for a leaf.</summary>
    public static int Depth(HttpFilter filter) => 1 + (filter.Filters.Count == 0 ? 0 : filter.Filters.Max(Depth));

    private static HttpFilter Leaf(HttpFilterKind kind, string pattern) => new(kind, pattern, []);
}
