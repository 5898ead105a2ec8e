using System.Text.Json;

namespace ClusterContext.Cli.Progress;

/// <summary>
/// The steps of starting a session (resolving the target, starting the agent, ...) on stderr: a spinner on a terminal,
/// plain lines otherwise, JSON lines for IDEs, or nothing. Stdout stays the program's (or the command's output).
/// </summary>
internal sealed class ProgressReporter : IProgress<string>, IDisposable
{
    private static readonly string[] Frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

    private readonly TextWriter _error;
    private readonly ProgressMode _mode;
    private readonly Lock _lock = new();
    private readonly Timer? _spinner;
    private string? _current;
    private int _frame;

    public ProgressReporter(ProgressMode mode, TextWriter? error = null, bool? terminal = null)
    {
        _error = error ?? Console.Error;
        var isTerminal = terminal ?? !Console.IsErrorRedirected;
        _mode = mode == ProgressMode.Auto ? (isTerminal ? ProgressMode.Auto : ProgressMode.Plain) : mode;
        if (_mode == ProgressMode.Auto)
        {
            _spinner = new Timer(_ => Spin(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Parses <c>--progress</c>'s value.</summary>
    public static ProgressMode Parse(string? value) => value switch
    {
        null or "auto" => ProgressMode.Auto,
        "plain" => ProgressMode.Plain,
        "json" => ProgressMode.Json,
        "quiet" => ProgressMode.Quiet,
        _ => throw new CliException($"--progress '{value}' is not a mode; use auto, plain, json or quiet.", ExitCodes.Usage),
    };

    /// <summary>A step begins.</summary>
    public void Report(string value) => Write("progress", value);

    /// <summary>Something the user should know that does not stop the command.</summary>
    public void Warn(string value) => Write("warning", value);

    /// <summary>The steps are over: the spinner's line is cleared (and the last step said, when <paramref name="message"/> is given).</summary>
    public void Done(string? message = null)
    {
        lock (_lock)
        {
            _spinner?.Change(Timeout.Infinite, Timeout.Infinite);
            if (_mode == ProgressMode.Auto && _current is not null)
            {
                _error.Write("\r\u001b[2K");
            }

            _current = null;
        }

        if (message is not null)
        {
            Write("ready", message);
        }
    }

    private void Write(string type, string message)
    {
        lock (_lock)
        {
            switch (_mode)
            {
                case ProgressMode.Quiet when type != "warning":
                    return;
                case ProgressMode.Json:
                    _error.WriteLine(JsonSerializer.Serialize(new ProgressLine(type, message, DateTimeOffset.UtcNow), ProgressJson.Default.ProgressLine));
                    break;
                case ProgressMode.Auto when type == "progress":
                    _current = message;
                    _error.Write($"\r\u001b[2K{Frames[_frame % Frames.Length]} {message}");
                    break;
                case ProgressMode.Auto:
                    _error.Write($"\r\u001b[2K{(type == "warning" ? "warning: " : "")}{message}\n");
                    if (_current is not null)
                    {
                        _error.Write($"{Frames[_frame % Frames.Length]} {_current}");
                    }

                    break;
                default:
                    _error.WriteLine(type == "warning" ? $"clusterctx: warning: {message}" : $"clusterctx: {message}");
                    break;
            }

            _error.Flush();
        }
    }

    private void Spin()
    {
        lock (_lock)
        {
            if (_current is null)
            {
                return;
            }

            _frame++;
            _error.Write($"\r\u001b[2K{Frames[_frame % Frames.Length]} {_current}");
            _error.Flush();
        }
    }

    public void Dispose()
    {
        Done();
        _spinner?.Dispose();
    }
}
