using Microsoft.Extensions.Logging;
using Xunit;

namespace ClusterContext.Testing.Internal;

/// <summary>
/// The session's log while a fixture starts it: kept for the fixture (the reason a session runs locally is the
/// session's own warning) and sent to the test run as diagnostic messages.
/// </summary>
internal sealed class FixtureLog : ILoggerFactory, ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The session's "running locally" warning, without its suffix.</summary>
    public string? LocalReason { get; private set; }

    /// <summary>" Last step: ..." when the session reported progress, for a message about a start that took too long.</summary>
    public string LastProgressSuffix
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count == 0 ? "" : $" Last step: {_lines[^1]}";
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The fixture's log has no providers.");

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = formatter(state, exception);
        if (eventId.Name == "RunningLocally")
        {
            LocalReason = state is IReadOnlyList<KeyValuePair<string, object?>> values
                && values.FirstOrDefault(v => v.Key == "Message").Value is string message ? message : line;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }

        TestContext.Current.SendDiagnosticMessage($"clustercontext: {line}");
    }

    public void Dispose()
    {
    }
}
