using Microsoft.Extensions.Logging;

namespace ClusterContext.Cli.Progress;

/// <summary>The library's log (the session's progress, warnings) shown as progress: information as steps, warnings and errors as warnings.</summary>
internal sealed class ProgressLoggerFactory(ProgressReporter progress) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new ProgressLogger(progress);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class ProgressLogger(ProgressReporter progress) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            if (logLevel >= LogLevel.Warning)
            {
                progress.Warn(message);
            }
            else
            {
                progress.Report(message);
            }
        }
    }
}
