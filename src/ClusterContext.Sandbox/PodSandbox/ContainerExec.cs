using System.Diagnostics;
using System.IO.Pipelines;
using ClusterContext.Testing.Sandbox.Processes;

namespace ClusterContext.Testing.Sandbox;

/// <summary>
/// A command running in the app container, as a container runtime's exec runs it: its own session (so ending it
/// ends everything it started), stdin/stdout/stderr as pipes, or one pseudo-terminal for all three with a TTY.
/// Disposing it kills what is still running.
/// </summary>
public sealed class ContainerExec : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Pty? _pty;
    private readonly FileStream? _terminal;
    private readonly Pipe? _terminalOutput;
    private readonly Thread? _terminalReader;
    private int _disposed;

    internal ContainerExec(Process process, Pty? pty)
    {
        _process = process;
        _pty = pty;
        if (pty is null)
        {
            Input = process.StandardInput.BaseStream;
            Output = process.StandardOutput.BaseStream;
            Error = process.StandardError.BaseStream;
            return;
        }

        // A pty master is read with blocking reads (EIO once the last slave closes): a thread of its own, not the pool's.
        _terminal = new FileStream(pty.Master, FileAccess.ReadWrite, bufferSize: 0);
        _terminalOutput = new Pipe();
        Input = _terminal;
        Output = _terminalOutput.Reader.AsStream();
        _terminalReader = new Thread(ReadTerminal) { IsBackground = true, Name = "exec pty reader" };
        _terminalReader.Start();
    }

    /// <summary>What the command reads: its stdin pipe, or the terminal.</summary>
    public Stream Input { get; }

    /// <summary>What the command writes to stdout (and with a TTY also stderr, echo included).</summary>
    public Stream Output { get; }

    /// <summary>What the command writes to stderr; null with a TTY.</summary>
    public Stream? Error { get; }

    public int Pid => _process.Id;

    /// <summary>Ends the command's input: its stdin pipe closes; on a terminal an end-of-file character is typed.</summary>
    public void CloseInput()
    {
        if (_pty is null)
        {
            Input.Dispose();
        }
        else
        {
            Input.Write([4]); // ^D: the line discipline hands the reader an end of file
        }
    }

    /// <summary>Sets the terminal size (no effect without a TTY).</summary>
    public void Resize(ushort columns, ushort rows) => _pty?.Resize(columns, rows);

    /// <summary>Waits for the command to end and returns its exit code (128 + N for a signal N).</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _ = Libc.Kill(-_process.Id, Libc.SigKill); // the session's process group: the command and what it started
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Left to the sandbox's teardown.
            }
        }

        _terminal?.Dispose();
        _pty?.Dispose();
        _process.Dispose();
    }

    private void ReadTerminal()
    {
        var writer = _terminalOutput!.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(16 * 1024);
                var read = _terminal!.Read(memory.Span);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                if (writer.FlushAsync().AsTask().GetAwaiter().GetResult().IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // EIO: every slave descriptor is closed, the command and its children are gone.
        }

        writer.Complete();
    }
}
