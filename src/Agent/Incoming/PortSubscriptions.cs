using System.Collections.Immutable;
using ClusterContext.Agent.Incoming.Coordination;
using ClusterContext.Agent.Incoming.Http;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Incoming;

/// <summary>
/// The sessions subscribed to one pod port, in the order they subscribed: that order is the precedence when filters
/// overlap, so the outcome never depends on hashing or timing. Readers take a snapshot (copy on write), so routing a
/// request never waits for a subscribe.
/// </summary>
/// <param name="hold">While it holds (just after a takeover), routing sees no steal.</param>
internal sealed class PortSubscriptions(ushort port, TakeoverHold? hold = null)
{
    private readonly Lock _gate = new();
    private ImmutableArray<Subscription> _current = [];

    public ushort Port { get; } = port;

    // One reference inside: read atomically, and every write replaces it whole under the lock.
    public ImmutableArray<Subscription> Current => _current;

    /// <summary>The claims a connection or request is routed by: <see cref="Current"/>, without the steals while a takeover holds them.</summary>
    public ImmutableArray<Subscription> Routing
    {
        get
        {
            var current = _current;
            return hold is { IsHeld: true } ? current.RemoveAll(s => s.Mode == IncomingMode.Steal) : current;
        }
    }

    /// <summary>
    /// Adds (or replaces) <paramref name="subscription"/>'s session's claim. Returns a notice for the session (empty
    /// when there is nothing to say); refuses a steal that could never get anything or would take another's.
    /// </summary>
    public string Add(Subscription subscription)
    {
        lock (_gate)
        {
            var others = _current.Where(s => s.Session != subscription.Session).ToList();
            var notices = new List<string>();
            if (subscription.Mode == IncomingMode.Steal)
            {
                foreach (var other in others.Where(o => o.Mode == IncomingMode.Steal))
                {
                    if (subscription.Filter is null)
                    {
                        throw new RemoteException(ErrorCode.InvalidArgument,
                            other.Filter is null
                                ? $"Port {Port} is already stolen whole by {other.Session}; a second whole-port steal would get nothing."
                                : $"Port {Port} is filtered by {other.Session}; stealing it whole would take that session's requests. Steal with an HTTP filter instead.");
                    }

                    if (other.Filter is null)
                    {
                        throw new RemoteException(ErrorCode.InvalidArgument, $"Port {Port} is stolen whole by {other.Session}; a filtered steal would get nothing until that session ends.");
                    }

                    if (other.Filter.Source.Equals(subscription.Filter.Source))
                    {
                        notices.Add($"{other.Session} steals port {Port} with the same filter and subscribed first: it gets those requests.");
                    }
                    else if (!FilterOverlap.AreDisjoint(other.Filter.Source, subscription.Filter.Source))
                    {
                        notices.Add($"{other.Session} also steals port {Port} with an HTTP filter and subscribed first: requests both filters match go to it.");
                    }
                }
            }

            var replaced = _current.IndexOf(_current.FirstOrDefault(s => s.Session == subscription.Session)!);
            _current = replaced >= 0 ? _current.SetItem(replaced, subscription) : _current.Insert(InsertionIndex(subscription.Rank), subscription);
            return string.Join(" ", notices);
        }
    }

    /// <summary>After every claim made earlier: claims made again after a takeover find their old place, in any arrival order.</summary>
    private int InsertionIndex(long rank)
    {
        var index = _current.Length;
        while (index > 0 && _current[index - 1].Rank > rank)
        {
            index--;
        }

        return index;
    }

    /// <summary>Removes the session's claim; true when it had one.</summary>
    public bool Remove(IncomingSession session)
    {
        lock (_gate)
        {
            var before = _current.Length;
            _current = _current.RemoveAll(s => s.Session == session);
            return _current.Length != before;
        }
    }

    public bool IsEmpty => _current.IsEmpty;

    /// <summary>The whole-port steal, if a session has one: it gets every connection as it is.</summary>
    public static Subscription? WholePortSteal(ImmutableArray<Subscription> subscriptions) =>
        subscriptions.FirstOrDefault(s => s.Mode == IncomingMode.Steal && s.Filter is null);

    /// <summary>True when some claim needs requests told apart, so connections are parsed as HTTP.</summary>
    public static bool NeedsHttp(ImmutableArray<Subscription> subscriptions) => subscriptions.Any(s => s.Filter is not null);

    /// <summary>The session that serves <paramref name="request"/>: the first filtered steal that matches, or none (the original app).</summary>
    public static Subscription? StealerOf(ImmutableArray<Subscription> subscriptions, HttpRequestHead request) =>
        subscriptions.FirstOrDefault(s => s.Mode == IncomingMode.Steal && s.Takes(request));
}
