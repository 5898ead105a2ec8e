using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace ClusterContext.Testing.Sandbox.Tests;

/// <summary>Routes sandbox logs to the test output and keeps them, so a test can read structured values (e.g. the sandbox number).</summary>
internal sealed class TestLoggerFactory(ITestOutputHelper output) : ILoggerFactory
{
    private readonly ITestOutputHelper _output = output;

    public ConcurrentQueue<(EventId EventId, IReadOnlyDictionary<string, object?> Values)> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => new TestLogger(this);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    /// <summary>The value named <paramref name="name"/> of the first event called <paramref name="eventName"/>.</summary>
    public object? FirstValue(string eventName, string name) =>
        Events.Where(e => e.EventId.Name == eventName).Select(e => e.Values.GetValueOrDefault(name)).FirstOrDefault();

    private sealed class TestLogger(TestLoggerFactory factory) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value)
                : [];
            factory.Events.Enqueue((eventId, values));
            try
            {
                factory._output.WriteLine($"[{logLevel}] {eventId.Name}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.Message})")}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished; its output is closed.
            }
        }
    }
}
