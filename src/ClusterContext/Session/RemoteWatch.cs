using System.Text;

namespace ClusterContext.Session;

/// <summary>Change notifications for directories in the pod: add directories, read the ones that changed.</summary>
internal sealed class RemoteWatch(Stream stream) : IAsyncDisposable
{
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly StreamReader _reader = new(stream, Encoding.UTF8, leaveOpen: true);

    /// <summary>Starts watching a directory in the pod.</summary>
    public async Task AddAsync(string directory, CancellationToken cancellationToken = default)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(directory + "\n"), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>The next directory in which something changed; null when the watch has ended.</summary>
    public Task<string?> NextChangeAsync(CancellationToken cancellationToken = default) => _reader.ReadLineAsync(cancellationToken).AsTask();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await stream.DisposeAsync().ConfigureAwait(false);
        _writeGate.Dispose();
    }
}
