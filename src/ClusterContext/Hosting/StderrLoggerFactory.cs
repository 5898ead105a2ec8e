using Microsoft.Extensions.Logging;

namespace ClusterContext.Hosting;

/// <summary>The startup hook's logging: one line per event on standard error, warnings and up unless CLUSTERCONTEXT_LOG=info.</summary>
internal sealed class StderrLoggerFactory : ILoggerFactory
{
    private static readonly LogLevel Minimum = string.Equals(Environment.GetEnvironmentVariable("CLUSTERCONTEXT_LOG"), "info", StringComparison.OrdinalIgnoreCase) ? LogLevel.Information : LogLevel.Warning;

    public ILogger CreateLogger(string categoryName) => new Logger();

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Console.Error.WriteLine($"clustercontext: {formatter(state, exception)}");
            }
        }
    }
}
