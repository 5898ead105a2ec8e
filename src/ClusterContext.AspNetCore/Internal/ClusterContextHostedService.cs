using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterContext.AspNetCore.Internal;

/// <summary>
/// Connects the session's log to the host's <see cref="ILoggerFactory"/> as soon as the host creates its hosted
/// services (before they start), and ends a session that <c>UseClusterContext()</c> started when the host stops;
/// registered first, it stops last.
/// </summary>
internal sealed class ClusterContextHostedService : IHostedService, IDisposable
{
    private readonly HostedClusterContext _context;
    private readonly ILogger _logger;
    private readonly IDisposable? _hookLog;

    public ClusterContextHostedService(HostedClusterContext context, StartupLoggerFactory startup, ILoggerFactory host)
    {
        _context = context;
        _logger = host.CreateLogger("ClusterContext.Hosting");
        startup.Attach(host);
        if (context.Joined && Hosting.SessionHandoff.Find()?.GetValueOrDefault("SubscribeLog") is Func<Action<int, string, string, Exception?>, IDisposable> subscribe)
        {
            // The hook's lines, from its load context: the level as a number, since the two contexts may hold different copies of the logging types.
            _hookLog = subscribe((level, category, message, exception) => host.CreateLogger(category).Log((LogLevel)level, default, message, exception, static (m, _) => m));
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_context.Owned is { } session)
        {
            try
            {
                await session.DisposeAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or TimeoutException)
            {
                HostingLog.StopFailed(_logger, ex.Message);
            }
        }
    }

    public void Dispose()
    {
        _hookLog?.Dispose();
        _context.Dispose();
    }
}
