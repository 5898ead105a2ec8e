using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using ClusterContext.Agent.Incoming;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Agent.Hosting;

/// <summary>Accepts sessions and serves each on its own connection; one bad client never affects another.</summary>
internal sealed class AgentServer(AgentOptions options, AgentRequestHandler handler, ILoggerFactory loggerFactory)
{
    private static readonly string AgentVersion = typeof(AgentServer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private readonly ILogger _logger = loggerFactory.CreateLogger("ClusterContext.Agent");
    private readonly ILogger _protocolLogger = loggerFactory.CreateLogger("ClusterContext.Agent.Protocol");
    private readonly byte[] _token = Encoding.UTF8.GetBytes(options.Token);
    private readonly Lock _gate = new();
    private int _activeSessions;
    private long _idleSince = Stopwatch.GetTimestamp();
    private long _sessionCounter;
    private bool _served;

    /// <summary>Runs until cancelled or idle for longer than the idle timeout; returns the exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var listener = new Socket(options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (options.Listen.AddressFamily == AddressFamily.InterNetworkV6 && options.Listen.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            listener.Bind(options.Listen);
            listener.Listen(512);
        }
        catch (SocketException ex)
        {
            AgentLog.ListenFailed(_logger, options.Listen, ex.Message);
            return 3;
        }

        AgentLog.Listening(_logger, listener.LocalEndPoint!, options.TargetPid, AgentVersion);
        if (_token.Length == 0 && options.TokenSha256 is null && !IPAddress.IsLoopback(options.Listen.Address))
        {
            AgentLog.Unprotected(_logger, listener.LocalEndPoint!);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var idleWatch = options.IdleTimeout is not null || options.Linger is not null ? WatchIdleAsync(stop) : Task.CompletedTask;
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(stop.Token).ConfigureAwait(false);
                _ = ServeAsync(socket, stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await idleWatch.ConfigureAwait(false);
        return 0;
    }

    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        socket.NoDelay = true;
        var sessionId = $"s{Interlocked.Increment(ref _sessionCounter)}";
        SessionStarted();
        var started = Stopwatch.GetTimestamp();
        var incoming = new IncomingSession(sessionId, options.Coordination is null ? null : $"agent {Environment.ProcessId}");
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            MuxConnection connection;
            try
            {
                connection = await MuxConnection.AcceptAsync(new StreamDuplexPipe(stream), hello => Accept(hello, sessionId), request => handler.HandleAsync(request, incoming), logger: _protocolLogger, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or OperationCanceledException)
            {
                AgentLog.Rejected(_logger, remote, ex.Message);
                return;
            }

            lock (_gate)
            {
                _served = true;
            }

            incoming.Attach(connection);
            await using (connection.ConfigureAwait(false))
            {
                AgentLog.SessionStarted(_logger, sessionId, remote, connection.Hello!.ClientName);
                string reason;
                try
                {
                    await connection.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
                    reason = "client disconnected";
                }
                catch (OperationCanceledException)
                {
                    reason = "agent stopping";
                }
                catch (Exception ex)
                {
                    reason = ex.Message;
                }

                AgentLog.SessionEnded(_logger, sessionId, remote, Stopwatch.GetElapsedTime(started).TotalSeconds, reason);
            }
        }
        finally
        {
            // Its subscriptions end with it: the pod's app serves what the session took, at once.
            incoming.Detach();
            await handler.Incoming.EndSessionAsync(incoming).ConfigureAwait(false);
            SessionEnded();
        }
    }

    private WelcomeMessage Accept(HelloMessage hello, string sessionId)
    {
        var presented = Encoding.UTF8.GetBytes(hello.Token);
        var admitted = options.TokenSha256 is { } digest
            ? CryptographicOperations.FixedTimeEquals(SHA256.HashData(presented), digest)
            : _token.Length == 0 || CryptographicOperations.FixedTimeEquals(presented, _token);
        if (!admitted)
        {
            throw new RemoteException(ErrorCode.Unauthorized, "The session token does not match the one this agent was started with.");
        }

        return new WelcomeMessage(ProtocolLimits.Version, AgentVersion, sessionId, options.TargetPid, 0);
    }

    private void SessionStarted()
    {
        lock (_gate)
        {
            _activeSessions++;
        }
    }

    private void SessionEnded()
    {
        lock (_gate)
        {
            if (--_activeSessions == 0)
            {
                _idleSince = Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>
    /// Stops the agent once no session is active for the idle timeout, or, after a session has been served, for the
    /// linger time (when set): an agent started for one user leaves soon after that user's session ends.
    /// </summary>
    private async Task WatchIdleAsync(CancellationTokenSource stop)
    {
        var shortest = new[] { options.IdleTimeout, options.Linger }.Where(t => t is not null).Min(t => t!.Value);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(shortest.TotalMilliseconds / 4, 50, 1000)));
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                TimeSpan limit;
                lock (_gate)
                {
                    var current = _served && options.Linger is { } linger ? linger : options.IdleTimeout;
                    if (current is null || _activeSessions > 0 || Stopwatch.GetElapsedTime(_idleSince) < current)
                    {
                        continue;
                    }

                    limit = current.Value;
                }

                AgentLog.IdleExit(_logger, limit.TotalSeconds);
                await stop.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
