using System.Text;

namespace ClusterContext.Testing.Sandbox.Processes;

/// <summary>
/// The last few kilobytes a long-running process printed: enough to explain why it died, bounded so a chatty
/// service cannot grow the test host's memory.
/// </summary>
internal sealed class OutputTail
{
    private const int Capacity = 16 * 1024;
    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();

    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _text.AppendLine(line);
            if (_text.Length > Capacity)
            {
                _text.Remove(0, _text.Length - Capacity);
            }
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return _text.ToString();
        }
    }
}
