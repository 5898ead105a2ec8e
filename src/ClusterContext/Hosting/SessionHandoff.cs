using System.Collections.Concurrent;

namespace ClusterContext.Hosting;

/// <summary>
/// The running session as seen from another copy of this assembly. The startup hook runs its session in
/// <see cref="HookLoadContext"/>, so the app's own copy (loaded by <c>UseClusterContext()</c> or the test fixture) sees
/// no <see cref="ClusterContextSession.Current"/>; starting a second session there would patch the same BCL methods
/// twice. The session therefore publishes itself in <see cref="AppContext"/> data under <see cref="Key"/>, as a
/// dictionary of runtime types only (strings, delegates, <see cref="IDisposable"/>), which every load context shares.
/// </summary>
internal static class SessionHandoff
{
    public const string Key = "ClusterContext.Session";

    /// <summary>Bumped when an entry changes meaning; a reader that does not know the version does not join.</summary>
    public const int Version = 1;

    private static readonly Lock Gate = new();
    private static readonly ConcurrentDictionary<object, Action<int, string, string, Exception?>> LogSinks = new();
    private static object? s_published;

    /// <summary>Whether some copy of this assembly has attached a log sink: the hook's lines then go there instead of to standard error.</summary>
    public static bool HasLogSink => !LogSinks.IsEmpty;

    /// <summary>Makes <paramref name="session"/> visible to the other load contexts, unless one is published already.</summary>
    public static void Publish(ClusterContextSession session)
    {
        lock (Gate)
        {
            if (AppContext.GetData(Key) is not null)
            {
                return;
            }

            var target = session.Target;
            var entries = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["Version"] = Version,
                ["Target"] = session.Options.Target,
                ["Namespace"] = target?.Namespace,
                ["Pod"] = target?.Pod,
                ["Container"] = target?.Container,
                ["IsConnected"] = session.IsConnected,
                ["IsLost"] = (Func<bool>)(() => session.IsLost),
                ["ImportedEnvironment"] = session.ImportedEnvironment,
                ["SubscribeStateChanged"] = (Func<Action, IDisposable>)(handler => Subscribe(session, handler)),
                ["SubscribeLog"] = (Func<Action<int, string, string, Exception?>, IDisposable>)(sink => SubscribeLog(sink)),
            };
            s_published = session;
            AppContext.SetData(Key, (IReadOnlyDictionary<string, object?>)entries);
        }
    }

    /// <summary>Takes <paramref name="session"/> back when it ends.</summary>
    public static void Withdraw(ClusterContextSession session)
    {
        lock (Gate)
        {
            if (ReferenceEquals(s_published, session))
            {
                s_published = null;
                AppContext.SetData(Key, null);
            }
        }
    }

    /// <summary>The session another load context published, if any.</summary>
    public static IReadOnlyDictionary<string, object?>? Find() =>
        AppContext.GetData(Key) is IReadOnlyDictionary<string, object?> entries && entries.TryGetValue("Version", out var version) && version is int number && number == Version
            ? entries
            : null;

    /// <summary>Hands a line of the session's log (level as <c>Microsoft.Extensions.Logging.LogLevel</c>'s number) to the attached sinks.</summary>
    public static void Forward(int level, string category, string message, Exception? exception)
    {
        foreach (var sink in LogSinks.Values)
        {
            sink(level, category, message, exception);
        }
    }

    private static Unsubscribe Subscribe(ClusterContextSession session, Action handler)
    {
        session.StateChanged += handler;
        return new Unsubscribe(() => session.StateChanged -= handler);
    }

    private static Unsubscribe SubscribeLog(Action<int, string, string, Exception?> sink)
    {
        var key = new object();
        LogSinks[key] = sink;
        return new Unsubscribe(() => LogSinks.TryRemove(key, out _));
    }

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        private Action? _action = action;

        public void Dispose() => Interlocked.Exchange(ref _action, null)?.Invoke();
    }
}
