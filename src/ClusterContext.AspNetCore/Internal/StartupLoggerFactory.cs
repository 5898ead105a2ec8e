using Microsoft.Extensions.Logging;

namespace ClusterContext.AspNetCore.Internal;

/// <summary>
/// The session's logging from <c>UseClusterContext()</c> on: the host's <see cref="ILoggerFactory"/> does not exist
/// until the host is built, so entries are kept (state and all) and written to the host's loggers once it attaches;
/// meanwhile the progress of slow steps and warnings go to standard error as they happen, as under the startup hook,
/// so a developer waiting for the agent sees why (progress only there: the console would show it twice).
/// </summary>
internal sealed class StartupLoggerFactory : ILoggerFactory
{
    private readonly Lock _gate = new();
    private readonly List<Action<ILoggerFactory>> _buffer = [];
    private ILoggerFactory? _host;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>Writes what was kept to <paramref name="host"/>'s loggers, and every later entry straight there.</summary>
    public void Attach(ILoggerFactory host)
    {
        lock (_gate)
        {
            if (_host is not null)
            {
                return;
            }

            foreach (var entry in _buffer)
            {
                entry(host);
            }

            _buffer.Clear();
            _host = host;
        }
    }

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Log<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ILoggerFactory? host;
        lock (_gate)
        {
            host = _host;
            if (host is null)
            {
                // Progress is for the developer watching the start: shown live, not written again to the host's log
                // (the console would show each step twice). Warnings go both ways; the rest waits for the host.
                var progress = eventId.Name is "Progress" && level < LogLevel.Warning;
                if (progress || level >= LogLevel.Warning)
                {
                    Console.Error.WriteLine($"clustercontext: {formatter(state, exception)}");
                }

                if (!progress)
                {
                    _buffer.Add(factory => factory.CreateLogger(category).Log(level, eventId, state, exception, formatter));
                }

                return;
            }
        }

        host.CreateLogger(category).Log(level, eventId, state, exception, formatter);
    }

    private sealed class Logger(StartupLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Log(category, logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
