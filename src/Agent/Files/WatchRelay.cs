using System.Text;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using Microsoft.Win32.SafeHandles;

namespace ClusterContext.Agent.Files;

/// <summary>
/// Serves <see cref="WatchRequest"/>: watches the directories the client names and reports each change, and each
/// directory once as soon as its watch is in place (covering changes made before).
/// </summary>
internal static class WatchRelay
{
    public static async Task RunAsync(IncomingRequest request, ContainerFileSystem files)
    {
        var ct = request.CancellationToken;
        var stream = request.CreateStream();
        request.Respond(new WatchResponse());
        var watchers = new List<(SafeFileHandle Handle, FileSystemWatcher Watcher)>();
        var writeGate = new SemaphoreSlim(1, 1);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
                while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } directory)
                {
                    SafeFileHandle handle;
                    try
                    {
                        handle = files.OpenDirectoryForWatch(directory);
                    }
                    catch (RemoteException)
                    {
                        // Nothing to watch there (gone, not a directory): the client revalidates on its own schedule.
                        continue;
                    }

                    var watcher = new FileSystemWatcher($"/proc/self/fd/{handle.DangerousGetHandle()}")
                    {
                        NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    };
                    var line = Encoding.UTF8.GetBytes(directory + "\n");
                    void Report(object sender, FileSystemEventArgs e) => _ = SendAsync(stream, writeGate, line, ct);
                    watcher.Changed += Report;
                    watcher.Created += Report;
                    watcher.Deleted += Report;
                    watcher.Renamed += (sender, e) => Report(sender, e);
                    watcher.EnableRaisingEvents = true;
                    watchers.Add((handle, watcher));

                    // Whatever changed between the client's read and this watch starting was not seen: report the
                    // directory once now, so the client re-checks its copies from there.
                    await SendAsync(stream, writeGate, line, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
            }
            finally
            {
                foreach (var (handle, watcher) in watchers)
                {
                    watcher.Dispose();
                    handle.Dispose();
                }

                writeGate.Dispose();
            }
        }
    }

    private static async Task SendAsync(MuxStream stream, SemaphoreSlim gate, byte[] line, CancellationToken ct)
    {
        try
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await stream.WriteAsync(line, ct).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
