using Microsoft.Extensions.Logging;

namespace ClusterContext;

internal static partial class SessionLog
{
    private static readonly EventId StartedEvent = new(1, "Started");

    /// <summary>
    /// The line that says the session is in place. Written by hand, not generated: the generated form instantiates
    /// the logging library's generic message types, which no precompiled image holds, so the JIT would compile them
    /// before the app's Main.
    /// </summary>
    public static void Started(ILogger logger, string address, int pid, int variables, string paths)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            logger.Log(LogLevel.Information, StartedEvent, new StartedState(address, pid, variables, paths), null, StartedState.Format);
        }
    }

    [LoggerMessage(2, LogLevel.Warning, "{Message} Running locally (required is false).", EventName = "RunningLocally")]
    public static partial void RunningLocally(ILogger logger, string message);

    [LoggerMessage(3, LogLevel.Warning, "{Message}", EventName = "WriteRefused")]
    public static partial void WriteRefused(ILogger logger, string message);

    [LoggerMessage(4, LogLevel.Information, "{Message}", EventName = "Progress")]
    public static partial void Progress(ILogger logger, string message);

    [LoggerMessage(5, LogLevel.Warning, "{Message}", EventName = "Reconnect")]
    public static partial void Reconnect(ILogger logger, string message);

    [LoggerMessage(6, LogLevel.Warning, "{Message}", EventName = "Incoming")]
    public static partial void Incoming(ILogger logger, string message);

    /// <summary>The started line's values, by name, with the template last (as the generated messages carry them).</summary>
    private readonly struct StartedState(string address, int pid, int variables, string paths) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private const string Template = "Running in the pod's context through the agent at {Address} (target process {Pid}): {Variables} environment variables imported; remote paths: {Paths}";

        public static readonly Func<StartedState, Exception?, string> Format = (state, _) => state.ToString();

        public int Count => 5;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("Address", address),
            1 => new("Pid", pid),
            2 => new("Variables", variables),
            3 => new("Paths", paths),
            4 => new("{OriginalFormat}", Template),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Running in the pod's context through the agent at {address} (target process {pid}): {variables} environment variables imported; remote paths: {paths}");
    }
}
