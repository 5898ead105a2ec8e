using Microsoft.Extensions.Logging;

namespace ClusterContext.Hosting;

/// <summary>
/// The startup hook's logging: one line per event on standard error. By default warnings and up, plus the progress of
/// start-up steps (resolving the target, starting the agent in the pod, the session being ready); CLUSTERCONTEXT_LOG
/// chooses otherwise: <c>info</c> (everything), <c>warning</c> (no progress lines), <c>error</c>. Once the app's host
/// has attached its logging (<c>UseClusterContext()</c> joining the hook's session), every line goes there instead.
/// </summary>
internal sealed class StderrLoggerFactory : ILoggerFactory
{
    private static readonly (LogLevel Minimum, bool Progress) Setting = Environment.GetEnvironmentVariable("CLUSTERCONTEXT_LOG")?.ToUpperInvariant() switch
    {
        "INFO" or "INFORMATION" or "DEBUG" => (LogLevel.Information, true),
        "WARNING" or "WARN" => (LogLevel.Warning, false),
        "ERROR" or "QUIET" => (LogLevel.Error, false),
        _ => (LogLevel.Warning, true),
    };

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= Setting.Minimum || (Setting.Progress && logLevel == LogLevel.Information) || (logLevel >= LogLevel.Information && SessionHandoff.HasLogSink);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (SessionHandoff.HasLogSink)
            {
                if (logLevel >= LogLevel.Information)
                {
                    SessionHandoff.Forward((int)logLevel, category, formatter(state, exception), exception);
                }
            }
            else if (logLevel >= Setting.Minimum || (Setting.Progress && logLevel == LogLevel.Information && eventId.Name is "Progress" or "Started"))
            {
                Console.Error.WriteLine($"clustercontext: {formatter(state, exception)}");
            }
        }
    }
}
