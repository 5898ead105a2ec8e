namespace ClusterContext.Session.Incoming;

/// <summary>
/// Which pod port a local listening port receives: <c>portMapping</c>'s entry for it; else, when it is the app's only
/// listening port so far and the target container declares exactly one <c>containerPort</c>, that one (said on
/// stderr); else the same number (said on stderr when <c>portMapping</c> names none of the app's ports). Then <c>ignorePorts</c> and <c>ports</c> decide whether it is subscribed at all.
/// </summary>
internal sealed class IncomingPortMap(IncomingSettings settings, IReadOnlyList<int> containerPorts, string container)
{
    /// <summary>The pod port to subscribe, or why none is, and what to tell the developer.</summary>
    public Decision Decide(int localPort, IReadOnlyCollection<int> otherListeningPorts, IReadOnlyDictionary<int, int> subscribedPodToLocal)
    {
        int podPort;
        string? notice = null;
        if (settings.PortMapping.TryGetValue(localPort, out var mapped))
        {
            podPort = mapped;
        }
        else if (otherListeningPorts.Count == 0 && containerPorts is [var only] && only != localPort
            && !settings.PortMapping.Values.Contains(only) && !subscribedPodToLocal.ContainsKey(only))
        {
            podPort = only;
            notice = $"The app listens on port {localPort} and container {container} declares one containerPort, {only}: pod port {only}'s incoming traffic goes to local port {localPort}. Set network.incoming.portMapping to choose otherwise.";
        }
        else
        {
            podPort = localPort;
            if (settings.PortMapping.Count > 0 && !otherListeningPorts.Any(settings.PortMapping.ContainsKey))
            {
                // A mapping none of whose local ports the app listens on: most often the app took its port from
                // elsewhere than the developer thinks (dotnet run's launch profile, ASPNETCORE_URLS, --urls).
                var mapping = string.Join(", ", settings.PortMapping.Select(m => $"{m.Key} -> {m.Value}"));
                notice = $"The app listens on port {localPort}, which network.incoming.portMapping ({mapping}) does not name: pod port {localPort} is subscribed, the same number. If the app was meant to listen on a mapped port, check where it takes its port from (dotnet run uses Properties/launchSettings.json's applicationUrl unless run with --no-launch-profile), or map {localPort}.";
            }
        }

        if (settings.IgnorePorts.Contains(podPort))
        {
            return new(null, null, $"pod port {podPort} is in network.incoming.ignorePorts");
        }

        if (settings.Ports.Count > 0 && !settings.Ports.Contains(podPort))
        {
            return new(null, null, $"pod port {podPort} is not in network.incoming.ports ({string.Join(", ", settings.Ports)})");
        }

        if (subscribedPodToLocal.TryGetValue(podPort, out var other) && other != localPort)
        {
            return new(null, null, $"pod port {podPort} already goes to local port {other}");
        }

        return new(podPort, notice, null);
    }

    /// <param name="PodPort">The pod port to subscribe; null when none is.</param>
    /// <param name="Notice">What to say on stderr about an automatic mapping; null when there is nothing to say.</param>
    /// <param name="Skipped">Why nothing is subscribed; null when <paramref name="PodPort"/> is set.</param>
    internal readonly record struct Decision(int? PodPort, string? Notice, string? Skipped);
}
