using System.Text.RegularExpressions;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// Whether two sessions' filters can both match one request. Regular expressions in general cannot be told apart,
/// so only the common case is proven disjoint: exact header filters (<c>^x-dev: alice$</c>) on one header name with
/// different values. Anything else may overlap, and the later subscriber is told who comes first.
/// </summary>
internal static partial class FilterOverlap
{
    public static bool AreDisjoint(HttpFilter a, HttpFilter b) =>
        ExactHeader(a) is { } x && ExactHeader(b) is { } y && x.Name == y.Name && x.Value != y.Value;

    private static (string Name, string Value)? ExactHeader(HttpFilter filter)
    {
        if (filter.Kind != HttpFilterKind.Header)
        {
            return null;
        }

        var match = ExactHeaderPattern().Match(filter.Pattern);
        return match.Success ? (match.Groups[1].Value, match.Groups[2].Value) : null;
    }

    [GeneratedRegex(@"^\^([a-z0-9!#$%&'*+.^_`|~-]+): ?([^\\\[\]().*+?{}|^$]*)\$$", RegexOptions.CultureInvariant)]
    private static partial Regex ExactHeaderPattern();
}
