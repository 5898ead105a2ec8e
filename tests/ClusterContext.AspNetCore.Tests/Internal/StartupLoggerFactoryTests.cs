using ClusterContext.AspNetCore.Internal;
using Microsoft.Extensions.Logging;

namespace ClusterContext.AspNetCore.Tests.Internal;

/// <summary>
/// The session's log before the host exists: progress is shown live on standard error only (not written again to the
/// host's log, where the console would show it twice), warnings both live and to the host, the rest to the host once
/// it attaches, in order, and everything after that straight to the host.
/// </summary>
public sealed class StartupLoggerFactoryTests
{
    [Fact]
    public void Progress_is_shown_once_and_the_rest_reaches_the_host_in_order()
    {
        var factory = new StartupLoggerFactory();
        var logger = factory.CreateLogger("ClusterContext");
        var live = new StringWriter();
        var original = Console.Error;
        Console.SetError(live);
        try
        {
            logger.Log(LogLevel.Information, new EventId(4, "Progress"), "Starting agent container", null, (s, _) => s);
            logger.Log(LogLevel.Warning, new EventId(7, "Warning"), "a warning", null, (s, _) => s);
            logger.Log(LogLevel.Information, new EventId(1, "Started"), "Running in the pod's context", null, (s, _) => s);
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Equal(["clustercontext: Starting agent container", "clustercontext: a warning"], live.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        var host = new CollectingFactory();
        factory.Attach(host);
        logger.Log(LogLevel.Information, new EventId(4, "Progress"), "Reconnecting", null, (s, _) => s);
        Assert.Equal(["Warning a warning", "Information Running in the pod's context", "Information Reconnecting"], host.Lines);
    }

    private sealed class CollectingFactory : ILoggerFactory, ILogger
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add($"{logLevel} {formatter(state, exception)}");
    }
}
