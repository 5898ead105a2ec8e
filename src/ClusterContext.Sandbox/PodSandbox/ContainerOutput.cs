namespace ClusterContext.Testing.Sandbox;

/// <summary>
/// What a sandbox process wrote, line by line with the time each line arrived (the most recent lines, bounded),
/// for a kubelet double's <c>pods/log</c>.
/// </summary>
public sealed class ContainerOutput
{
    private const int MaxLines = 20_000;
    private readonly Queue<(DateTimeOffset Time, bool IsError, string Text)> _lines = new();
    private readonly List<Action<DateTimeOffset, bool, string>> _watchers = [];
    private readonly Lock _lock = new();

    /// <summary>
    /// Calls <paramref name="onLine"/> (time, whether on stderr, text) for every line kept so far and then for each
    /// new one, in order, on the thread that read it.
    /// </summary>
    public void Watch(Action<DateTimeOffset, bool, string> onLine)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        lock (_lock)
        {
            foreach (var (time, isError, text) in _lines)
            {
                onLine(time, isError, text);
            }

            _watchers.Add(onLine);
        }
    }

    internal void Append(bool isError, string? text)
    {
        if (text is null)
        {
            return;
        }

        var time = DateTimeOffset.UtcNow;
        lock (_lock)
        {
            _lines.Enqueue((time, isError, text));
            if (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
            }

            foreach (var watcher in _watchers)
            {
                watcher(time, isError, text);
            }
        }
    }
}
