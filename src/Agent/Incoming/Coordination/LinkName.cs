using System.Globalization;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>
/// What a follower says about one of its subscriptions in the link's hello (its client name field): the claim's rank,
/// so precedence survives a takeover, and how to name the session in messages other sessions see.
/// </summary>
internal static class LinkName
{
    public static string Format(long rank, string session, string clientName) =>
        string.Create(CultureInfo.InvariantCulture, $"{rank}\n{session}\n{clientName}");

    public static bool TryParse(string text, out long rank, out string session, out string clientName)
    {
        var parts = text.Split('\n', 3);
        session = parts.Length == 3 ? parts[1] : "";
        clientName = parts.Length == 3 ? parts[2] : "";
        rank = 0;
        return parts.Length == 3 && session.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out rank);
    }
}
