using System.Diagnostics;
using System.Net.Sockets;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Incoming.Coordination;

/// <summary>
/// Lets the agents of one pod (one per developer's session) share its incoming traffic. The first agent that needs
/// incoming binds the pod's coordination socket and leads: its <see cref="IncomingService"/> owns the redirect, the
/// listeners and the one table of subscriptions. Every other agent follows: it makes its sessions' subscriptions at
/// the leader, over a link each, and relays what the leader routes to them. So one set of rules decides for the
/// whole pod (first subscribed wins, overlaps reported, an unfiltered steal of a port another session filters
/// refused, naming that session).
/// </summary>
/// <remarks>
/// When the leader dies, its redirect table goes with it (the kernel drops the owner table) and so does the socket
/// name; its followers see their links end, race to bind the name, and the winner leads with its own table while the
/// others follow it, each making its subscriptions again with their original rank, so precedence does not change.
/// A leader whose own sessions are all gone keeps leading for its followers until its process ends.
/// </remarks>
internal sealed class PodCoordinator : IDisposable
{
    private const int MaxAttempts = 50;

    private readonly IncomingService _engine;
    private readonly string? _name;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<LocalSubscription> _local = [];
    private readonly CancellationTokenSource _stop = new();
    private LeaderEndpoint? _leading;
    private bool _following;
    private int _generation;

    /// <param name="name">The coordination socket's abstract name; null to serve this agent's sessions alone.</param>
    public PodCoordinator(IncomingService engine, string? name, ILoggerFactory loggerFactory)
    {
        _engine = engine;
        _name = name;
        _logger = loggerFactory.CreateLogger("ClusterContext.Agent.Incoming");
    }

    public async Task<SubscribeResponse> SubscribeAsync(IncomingSession session, SubscribeRequest request, CancellationToken ct)
    {
        if (_name is null)
        {
            return _engine.Subscribe(session, request);
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var existing = _local.Find(s => s.Session == session && s.Port == request.Port);
            var subscription = existing ?? new LocalSubscription(session, request, Stopwatch.GetTimestamp());
            for (var attempt = 1; ; attempt++)
            {
                if (_leading is null && !_following)
                {
                    Decide();
                }

                try
                {
                    var response = _leading is not null
                        ? _engine.Subscribe(session, request, subscription.Rank)
                        : await SubscribeAtLeaderAsync(subscription, request, ct).ConfigureAwait(false);
                    subscription.Request = request;
                    if (existing is null)
                    {
                        _local.Add(subscription);
                    }

                    return response;
                }
                catch (Exception ex) when (IsLeaderGone(ex) && attempt < MaxAttempts && !ct.IsCancellationRequested)
                {
                    // The leader left between the choice and now: choose again, and bring the others along.
                    await RejoinLockedAsync().ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task UnsubscribeAsync(IncomingSession session, ushort port)
    {
        if (_name is null)
        {
            _engine.Unsubscribe(session, port);
            return;
        }

        LocalSubscription? subscription;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            subscription = _local.Find(s => s.Session == session && s.Port == port);
            if (subscription is not null)
            {
                _local.Remove(subscription);
            }
        }
        finally
        {
            _gate.Release();
        }

        _engine.Unsubscribe(session, port);
        if (subscription?.Link is { } link)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await link.UnsubscribeAsync(port, timeout.Token).ConfigureAwait(false);
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A session ended (or was lost): its subscriptions end, here and at the leader.</summary>
    public async Task EndSessionAsync(IncomingSession session)
    {
        _engine.EndSession(session);
        if (_name is null)
        {
            return;
        }

        List<LocalSubscription> ended;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ended = _local.FindAll(s => s.Session == session);
            _local.RemoveAll(s => s.Session == session);
        }
        finally
        {
            _gate.Release();
        }

        foreach (var subscription in ended)
        {
            if (subscription.Link is { } link)
            {
                _ = link.DisposeAsync().AsTask();
            }
        }
    }

    private async Task<SubscribeResponse> SubscribeAtLeaderAsync(LocalSubscription subscription, SubscribeRequest request, CancellationToken ct)
    {
        if (subscription.Link is { } existing)
        {
            return await existing.SubscribeAsync(request, ct).ConfigureAwait(false);
        }

        var link = await ConnectAsync(subscription, ct).ConfigureAwait(false);
        try
        {
            var response = await link.SubscribeAsync(request, ct).ConfigureAwait(false);
            subscription.Link = link;
            _ = WatchAsync(link, _generation);
            CoordinationLog.Following(_logger, _name!, subscription.Session.ToString(), request.Port);
            return response;
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private Task<LeaderLink> ConnectAsync(LocalSubscription subscription, CancellationToken ct) =>
        LeaderLink.ConnectAsync(_name!, subscription, _logger, ct);

    /// <summary>Leads if the pod's coordination socket is free; follows whoever holds it otherwise.</summary>
    private void Decide()
    {
        if (CoordinationSocket.TryListen(_name!) is { } listener)
        {
            _leading = new LeaderEndpoint(listener, _engine, _logger);
            _leading.Start();
            CoordinationLog.Leading(_logger, _name!);
        }
        else
        {
            _following = true;
        }
    }

    /// <summary>When a link to the leader ends without this agent closing it, the leader is gone.</summary>
    private async Task WatchAsync(LeaderLink link, int generation)
    {
        try
        {
            await link.Completion.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // However it ended, it ended.
        }

        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (generation == _generation && _local.Exists(s => s.Link == link))
            {
                CoordinationLog.LeaderLost(_logger);
                await RejoinLockedAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // This agent is stopping: nothing to rejoin.
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Takes over or follows the new leader, and makes every subscription of this agent's sessions again there, with
    /// its original rank. Runs under the gate.
    /// </summary>
    private async Task RejoinLockedAsync()
    {
        _generation++;
        var clock = Stopwatch.StartNew();
        await DropLinksAsync().ConfigureAwait(false);
        for (var attempt = 1; !_stop.IsCancellationRequested; attempt++)
        {
            Decide();
            if (_leading is not null)
            {
                // The followers' claims come back one by one: until they have, an early one could take an earlier one's requests.
                _engine.Hold.Begin();
                CoordinationLog.HoldingSteals(_logger, (int)TakeoverHold.Quiet.TotalMilliseconds, (int)TakeoverHold.Longest.TotalMilliseconds);
                foreach (var subscription in _local.OrderBy(s => s.Rank))
                {
                    try
                    {
                        _engine.Subscribe(subscription.Session, subscription.Request, subscription.Rank);
                    }
                    catch (RemoteException ex)
                    {
                        CoordinationLog.ResubscribeFailed(_logger, subscription.Session.ToString(), subscription.Port, ex.Message);
                    }
                }

                CoordinationLog.Rejoined(_logger, "leading", clock.Elapsed.TotalMilliseconds, _local.Count);
                return;
            }

            try
            {
                foreach (var subscription in _local.OrderBy(s => s.Rank))
                {
                    try
                    {
                        await SubscribeAtLeaderAsync(subscription, subscription.Request, _stop.Token).ConfigureAwait(false);
                    }
                    catch (RemoteException ex)
                    {
                        CoordinationLog.ResubscribeFailed(_logger, subscription.Session.ToString(), subscription.Port, ex.Message);
                    }
                }

                CoordinationLog.Rejoined(_logger, "following", clock.Elapsed.TotalMilliseconds, _local.Count);
                return;
            }
            catch (Exception ex) when (IsLeaderGone(ex))
            {
                // The one that bound the name died too, or has not listened yet: choose again, soon.
                await DropLinksAsync().ConfigureAwait(false);
                await Task.Delay(Math.Min(10 * attempt, 200), _stop.Token).ConfigureAwait(false);
            }
        }
    }

    private async Task DropLinksAsync()
    {
        _following = false;
        foreach (var subscription in _local)
        {
            if (subscription.Link is { } link)
            {
                subscription.Link = null;
                await link.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static bool IsLeaderGone(Exception ex) =>
        ex is SocketException or TimeoutException or ProtocolException || (ex is IOException && ex is not RemoteException);

    public void Dispose()
    {
        _stop.Cancel();
        _leading?.Dispose();
        foreach (var subscription in _local)
        {
            if (subscription.Link is { } link)
            {
                _ = link.DisposeAsync().AsTask();
            }
        }
    }
}
