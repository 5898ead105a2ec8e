using ClusterContext.Protocol.Messages;

namespace ClusterContext.Session;

/// <summary>A file opened in the container: its metadata at open time and its bytes.</summary>
internal sealed class RemoteFile(FileStat stat, Stream content) : IAsyncDisposable
{
    /// <summary>Metadata taken from the open handle.</summary>
    public FileStat Stat { get; } = stat;

    /// <summary>The requested range of the file; a read error in the pod surfaces as an <see cref="IOException"/>, never as an early end.</summary>
    public Stream Content { get; } = content;

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
