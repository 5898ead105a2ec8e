using ClusterContext.Protocol.Messages;
using ClusterContext.Session;
using ClusterContext.Tests.Session.Incoming;

namespace ClusterContext.Tests.Session;

/// <summary>A process joining a session host opens its own session with the agent in the background, while its Main runs.</summary>
public sealed class FirstSessionTests
{
    [Fact]
    public async Task An_operation_made_while_the_first_session_opens_waits_for_it_and_runs_on_it()
    {
        await using var peer = await TestAgentPeer.StartAsync();
        var opening = new TaskCompletionSource<AgentClient>(TaskCreationOptions.RunContinuationsAsynchronously);
        var remote = new RemoteCalls(opening.Task, TimeSpan.FromSeconds(20), "test-agent");
        Assert.False(remote.IsLost); // being opened is not lost: a health check says so
        Assert.Null(remote.CurrentAgent);
        Assert.False(remote.Opened.IsCompleted);

        var subscribe = Task.Run(() => remote.Run(ct => remote.Agent.SubscribeAsync(8080, IncomingMode.Steal, null, ct), "subscribe"));
        // Not done within a fifth of a second (it would fail at once if it did not wait), and nothing reached the agent.
        await Assert.ThrowsAsync<TimeoutException>(() => subscribe.WaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Empty(peer.Seen);

        opening.SetResult(peer.Client);
        await subscribe.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains(peer.Seen, m => m is SubscribeRequest { Port: 8080 });
        Assert.Same(peer.Client, remote.CurrentAgent);
        await remote.Opened.WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_first_session_that_fails_to_open_is_opened_again_at_once_and_the_operation_waiting_gets_it()
    {
        await using var peer = await TestAgentPeer.StartAsync();
        var opening = new TaskCompletionSource<AgentClient>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        var reports = new List<string>();
        // Reconnections are an hour apart: only the one a failed first session starts at once can serve the operation.
        var remote = new RemoteCalls(opening.Task, TimeSpan.FromSeconds(20), "test-agent", _ =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromResult(peer.Client);
        }, message => { lock (reports) { reports.Add(message); } }, retryAfter: TimeSpan.FromHours(1));

        opening.SetException(new IOException("The session host went away."));
        await remote.Opened.WaitAsync(TimeSpan.FromSeconds(20));
        remote.Run(ct => remote.Agent.SubscribeAsync(8080, IncomingMode.Steal, null, ct), "subscribe");

        Assert.Equal(1, attempts);
        Assert.Contains(peer.Seen, m => m is SubscribeRequest { Port: 8080 });
        lock (reports)
        {
            Assert.Contains(reports, r => r.Contains("The session host went away.", StringComparison.Ordinal) && r.Contains("reconnecting", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task An_operation_waiting_for_a_first_session_that_fails_waits_for_the_reconnection_it_starts()
    {
        await using var peer = await TestAgentPeer.StartAsync();
        var opening = new TaskCompletionSource<AgentClient>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource<AgentClient>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;
        var remote = new RemoteCalls(opening.Task, TimeSpan.FromSeconds(20), "test-agent", _ =>
        {
            Interlocked.Increment(ref attempts);
            return reconnected.Task;
        }, retryAfter: TimeSpan.FromHours(1));

        // The operation waits for the first session; that one fails (its session host was killed), and the
        // reconnection it starts takes a while: the operation runs on the new session, not fails with the first.
        var subscribe = Task.Run(() => remote.Run(ct => remote.Agent.SubscribeAsync(8080, IncomingMode.Steal, null, ct), "subscribe"));
        await Assert.ThrowsAsync<TimeoutException>(() => subscribe.WaitAsync(TimeSpan.FromMilliseconds(100)));
        opening.SetException(new IOException("Unable to write data to the transport connection: Broken pipe."));
        await Assert.ThrowsAsync<TimeoutException>(() => subscribe.WaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.False(subscribe.IsFaulted);

        reconnected.SetResult(peer.Client);
        await subscribe.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, attempts);
        Assert.Contains(peer.Seen, m => m is SubscribeRequest { Port: 8080 });
    }
}
