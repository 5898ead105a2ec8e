using System.Diagnostics;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>
/// After an agent takes the lead from one that died, the claims of the old table come back one agent at a time, each
/// with its original rank; until the followers have made theirs again, a claim that came back early could take
/// requests an earlier claim of a follower still on its way has precedence for. So for a short while after a takeover
/// no steal is routed (the pod's original app serves, as it did while no agent led), until no follower has joined or
/// subscribed for <see cref="Quiet"/>, and never longer than <see cref="Longest"/>. Mirrors go on.
/// </summary>
internal sealed class TakeoverHold
{
    /// <summary>How long the leader waits after the last follower joined or subscribed.</summary>
    internal static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(750);

    /// <summary>The longest a takeover holds steals back: a follower that has not come back by then is taken for gone.</summary>
    internal static readonly TimeSpan Longest = TimeSpan.FromSeconds(3);

    private long _until;
    private long _cap;

    /// <summary>True while steals wait for the followers to come back.</summary>
    public bool IsHeld
    {
        get
        {
            var until = Volatile.Read(ref _until);
            if (until == 0)
            {
                return false;
            }

            if (Stopwatch.GetTimestamp() < until)
            {
                return true;
            }

            // Over: routing reads no clock from now on (unless a takeover begins a new hold meanwhile).
            Interlocked.CompareExchange(ref _until, 0, until);
            return false;
        }
    }

    /// <summary>The lead was just taken over: hold steals back until the followers are quiet.</summary>
    public void Begin()
    {
        var now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _cap, now + (long)(Longest.TotalSeconds * Stopwatch.Frequency));
        Volatile.Write(ref _until, now + (long)(Quiet.TotalSeconds * Stopwatch.Frequency));
    }

    /// <summary>A follower joined or made a claim again: while held, the hold lasts <see cref="Quiet"/> from now.</summary>
    public void Extend()
    {
        if (!IsHeld)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _until, Math.Min(Volatile.Read(ref _cap), now + (long)(Quiet.TotalSeconds * Stopwatch.Frequency)));
    }
}
