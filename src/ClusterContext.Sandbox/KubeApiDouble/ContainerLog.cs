using System.Threading.Channels;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// What one container wrote, line by line with the time each line arrived, as the kubelet keeps it for
/// <c>pods/log</c>: the most recent lines (bounded), and each new line to every reader following the log, until the
/// container ends (<see cref="Complete"/>).
/// </summary>
public sealed class ContainerLog
{
    private const int MaxLines = 20_000;
    private readonly Queue<ContainerLogLine> _lines = new();
    private readonly List<Channel<ContainerLogLine>> _followers = [];
    private readonly Lock _lock = new();
    private bool _completed;

    /// <summary>Whether the container has ended: a follow ends after the last line.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_lock)
            {
                return _completed;
            }
        }
    }

    /// <summary>Records a line the container wrote to <paramref name="stream"/> ("stdout" or "stderr") now.</summary>
    public void Append(string stream, string text) => Append(DateTimeOffset.UtcNow, stream, text);

    /// <summary>Records a line the container wrote to <paramref name="stream"/> at <paramref name="time"/>.</summary>
    public void Append(DateTimeOffset time, string stream, string text)
    {
        var line = new ContainerLogLine(time, stream, text);
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            _lines.Enqueue(line);
            if (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
            }

            foreach (var follower in _followers)
            {
                follower.Writer.TryWrite(line);
            }
        }
    }

    /// <summary>The container ended: followers see the end of the log.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            foreach (var follower in _followers)
            {
                follower.Writer.TryComplete();
            }

            _followers.Clear();
        }
    }

    /// <summary>
    /// The lines kept so far and, when <paramref name="follow"/>, a reader of every later line (complete when the
    /// container ends), taken together so no line is missed or seen twice. Dispose the reader's registration with
    /// <see cref="Unfollow"/>.
    /// </summary>
    internal (ContainerLogLine[] Past, Channel<ContainerLogLine>? Future) Open(bool follow)
    {
        lock (_lock)
        {
            ContainerLogLine[] past = [.. _lines];
            if (!follow)
            {
                return (past, null);
            }

            var future = Channel.CreateUnbounded<ContainerLogLine>(new UnboundedChannelOptions { SingleReader = true });
            if (_completed)
            {
                future.Writer.TryComplete();
            }
            else
            {
                _followers.Add(future);
            }

            return (past, future);
        }
    }

    internal void Unfollow(Channel<ContainerLogLine> future)
    {
        lock (_lock)
        {
            _followers.Remove(future);
        }
    }
}
