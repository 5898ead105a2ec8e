using Microsoft.Extensions.Logging;

namespace ClusterContext.Tests.Session;

/// <summary>The session's own log lines, as a logging provider sees them: the text and each value by name.</summary>
public sealed class SessionLogTests
{
    [Fact]
    public void The_started_line_carries_its_text_event_and_values_by_name()
    {
        var logger = new CapturingLogger();
        SessionLog.Started(logger, "deployment/orders (pod shop/orders-1)", 716, 17, "/etc/orders, /var/run/secrets");

        var (level, eventId, text, values) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, level);
        Assert.Equal(new EventId(1, "Started"), eventId);
        Assert.Equal("Running in the pod's context through the agent at deployment/orders (pod shop/orders-1) (target process 716): 17 environment variables imported; remote paths: /etc/orders, /var/run/secrets", text);
        Assert.Equal(
            [
                new("Address", "deployment/orders (pod shop/orders-1)"),
                new("Pid", 716),
                new("Variables", 17),
                new("Paths", "/etc/orders, /var/run/secrets"),
                new("{OriginalFormat}", "Running in the pod's context through the agent at {Address} (target process {Pid}): {Variables} environment variables imported; remote paths: {Paths}"),
            ],
            values);
    }

    [Fact]
    public void The_started_line_is_not_made_when_information_is_off()
    {
        var logger = new CapturingLogger { Minimum = LogLevel.Warning };
        SessionLog.Started(logger, "a", 1, 2, "b");
        Assert.Empty(logger.Entries);
    }

    private sealed class CapturingLogger : ILogger
    {
        public LogLevel Minimum { get; init; } = LogLevel.Trace;

        public List<(LogLevel Level, EventId Event, string Text, KeyValuePair<string, object?>[] Values)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IReadOnlyList<KeyValuePair<string, object?>> list ? list.ToArray() : [];
            Entries.Add((logLevel, eventId, formatter(state, exception), values));
        }
    }
}
