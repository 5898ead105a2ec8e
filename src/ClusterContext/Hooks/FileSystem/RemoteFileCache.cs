using System.Collections.Concurrent;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;
using ClusterContext.Session;

namespace ClusterContext.Hooks.FileSystem;

/// <summary>
/// Local copies of the pod's files, one folder per session, so that every BCL file API works on them unchanged.
/// The agent watches the directories of the copies and reports every change; the copies there are re-checked
/// (size, modification time, inode) and brought up to date at once, so the app, its file watchers and reload-on-change
/// configuration see the pod's edits, and a read of an unchanged file costs no round trip. As a safety net a copy is
/// also re-checked when used more than <see cref="FreshFor"/> after its last check, and in the background.
/// </summary>
internal sealed class RemoteFileCache : IDisposable
{
    private readonly RemoteCalls _remote;
    /// <summary>How long a checked copy is trusted without asking the pod again (changes are normally pushed sooner).</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, bool> _watched = new(StringComparer.Ordinal);
    private volatile Task<RemoteWatch?> _watch;

    private readonly ConcurrentDictionary<string, FileStat> _fetched = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (long CheckedAt, string Local)> _checked = new(StringComparer.Ordinal);
    private readonly Lock _writeGate = new();
    private readonly ConcurrentDictionary<string, (long Length, DateTime Modified)> _writeThrough = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _writtenLocally = new(StringComparer.Ordinal);
    private readonly Timer _refresh;
    private int _refreshing;

    private readonly Action<string> _warn;
    private readonly Session.Host.SessionHostClient? _host;

    /// <param name="remote">The session's agent.</param>
    /// <param name="warn">Told of writes the pod refused.</param>
    /// <param name="host">
    /// The session host, which then sends written copies to the pod as soon as they are closed (and removes this
    /// process's folder should it die); without one, the session does both itself, on its schedule and at its end.
    /// </param>
    /// <param name="root">The folder of this process's copies, from <see cref="CreateRoot"/>.</param>
    public RemoteFileCache(string root, RemoteCalls remote, Action<string> warn, Session.Host.SessionHostClient? host = null)
    {
        _remote = remote;
        _warn = warn;
        _host = host;
        Root = root;
        host?.UseCache(Root);
        // Armed with the first copy or write to look after: a process that uses no pod file is never woken for it.
        _refresh = new Timer(_ => Refresh(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watch = StartWatchAsync();
        remote.Reconnected += OnReconnected;
    }

    public string Root { get; }

    /// <summary>Makes the folder of this process's copies (sweeping what dead processes left).</summary>
    public static string CreateRoot() =>
        OperatingSystem.IsWindows() ? Directory.CreateTempSubdirectory($"clustercontext-{Environment.ProcessId}-").FullName : CacheFolder.Create();

    /// <summary>Where the local copy of a pod path lives.</summary>
    public string CopyPath(string remotePath) => Root + "/files" + remotePath;

    /// <summary>A path that never exists, for pod paths that do not.</summary>
    public string MissingPath(string remotePath) => Root + "/missing" + remotePath;

    /// <summary>The local copy of a pod file or directory, brought up to date; <see cref="MissingPath"/> when the pod has none.</summary>
    public string Materialize(string remotePath)
    {
        // A copy is not served after the session is gone: the app must learn that the pod is out of reach.
        _remote.ThrowIfLost($"access to {remotePath}");
        if (_checked.TryGetValue(remotePath, out var known) && System.Diagnostics.Stopwatch.GetElapsedTime(known.CheckedAt) < FreshFor)
        {
            return known.Local;
        }

        return Revalidate(remotePath);
    }

    private string Revalidate(string remotePath)
    {
        if (_writtenLocally.ContainsKey(remotePath) && File.Exists(CopyPath(remotePath)))
        {
            return CopyPath(remotePath);
        }

        var stat = Stat(remotePath);
        var local = stat?.Type switch
        {
            FileType.Directory => MaterializeDirectory(remotePath, stat),
            null => MissingPath(remotePath),
            _ => MaterializeFile(remotePath, stat),
        };
        _checked[remotePath] = (System.Diagnostics.Stopwatch.GetTimestamp(), local);
        StartRefreshing();
        Watch(stat?.Type == FileType.Directory ? remotePath : Path.GetDirectoryName(remotePath) ?? "/");
        return local;
    }

    private async Task<RemoteWatch?> StartWatchAsync()
    {
        try
        {
            await _remote.Opened.ConfigureAwait(false); // a first session opened in the background
            var watch = await _remote.Agent.WatchAsync().ConfigureAwait(false);
            _ = Task.Run(() => ReceiveChangesAsync(watch));
            return watch;
        }
        catch (IOException)
        {
            // An agent without change notifications: copies are re-checked on the FreshFor schedule instead.
            return null;
        }
    }

    /// <summary>
    /// A new session: its agent watches the same directories (reporting each once when in place, so copies changed in
    /// the pod meanwhile are checked again).
    /// </summary>
    private void OnReconnected()
    {
        _watch = StartWatchAsync();
        foreach (var directory in _watched.Keys)
        {
            AddWatch(directory);
        }
    }

    private void Watch(string remoteDirectory)
    {
        if (_watched.TryAdd(remoteDirectory, true))
        {
            AddWatch(remoteDirectory);
        }
    }

    private void AddWatch(string remoteDirectory) =>
        _ = _watch.ContinueWith(
            async t =>
            {
                if (t.Result is { } watch)
                {
                    try
                    {
                        await watch.AddAsync(remoteDirectory).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        // That session is gone; a new one watches again.
                    }
                }
            },
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap();

    private async Task ReceiveChangesAsync(RemoteWatch watch)
    {
        try
        {
            while (await watch.NextChangeAsync().ConfigureAwait(false) is { } directory)
            {
                foreach (var remotePath in _checked.Keys.Where(p => p == directory || Path.GetDirectoryName(p) == directory))
                {
                    try
                    {
                        Revalidate(remotePath);
                    }
                    catch (RemoteException)
                    {
                        // This one path could not be checked now; its next use tries again.
                        _checked.TryRemove(remotePath, out _);
                    }
                }
            }
        }
        catch (IOException)
        {
            // The session ended; uses report it.
        }
    }

    /// <summary>A local file for a pod path that is about to be created (read mode: it stays local).</summary>
    public string PrepareLocalCreate(string remotePath)
    {
        var local = CopyPath(remotePath);
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        return local;
    }

    /// <summary>
    /// Marks a pod path the app opened for writing: from then on its local copy is what the app sees. With
    /// <paramref name="reachPod"/> the copy is also sent back to the pod whenever it changes (checked with the
    /// background refresh, and at the end of the session).
    /// </summary>
    public void MarkWritten(string remotePath, bool reachPod)
    {
        _writtenLocally[remotePath] = true;
        _checked.TryRemove(remotePath, out _);

        // The host watches the copy from before the app's first byte; when it cannot be asked, the session sends it.
        if (reachPod && _host?.Watch(remotePath) != true)
        {
            _writeThrough.TryAdd(remotePath, (-1, default));
            StartRefreshing();
        }
    }

    private void StartRefreshing()
    {
        if (Volatile.Read(ref _refreshing) == 0 && Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            _refresh.Change(FreshFor, FreshFor);
        }
    }

    /// <summary>Sends every changed write-through copy to the pod now (and waits for the host's sends).</summary>
    public void FlushWrites()
    {
        FlushOwnWrites();
        _host?.Flush();
    }

    /// <summary>Sends the changed write-through copies the host does not watch.</summary>
    private void FlushOwnWrites()
    {
        foreach (var (remotePath, sent) in _writeThrough)
        {
            var local = new FileInfo(CopyPath(remotePath));
            if (!local.Exists || (local.Length == sent.Length && local.LastWriteTimeUtc == sent.Modified))
            {
                continue;
            }

            var content = File.ReadAllBytes(local.FullName);
            _writeThrough[remotePath] = (local.Length, local.LastWriteTimeUtc);
            try
            {
                _fetched[remotePath] = _remote.Run(ct => _remote.Agent.WriteAllBytesAsync(remotePath, content, ct), $"write {remotePath}");
            }
            catch (RemoteException ex)
            {
                // The pod refused (a read-only volume, say): the app keeps its local copy, and is told once per change.
                _warn($"Could not write {remotePath} in the pod ({ex.Message}); the change stays in the local copy.");
            }
        }
    }

    public void Dispose()
    {
        _refresh.Dispose();
        DeleteRoot(Root);
    }

    /// <summary>Removes a folder of copies, <see cref="CreateRoot"/>'s, with whatever is in it.</summary>
    public static void DeleteRoot(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private FileStat? Stat(string remotePath, bool followSymlinks = true)
    {
        try
        {
            return _remote.Run(ct => _remote.Agent.StatAsync(remotePath, followSymlinks, ct), $"stat {remotePath}");
        }
        catch (RemoteException ex) when (ex.Code is ErrorCode.NotFound or ErrorCode.NotADirectory)
        {
            return null;
        }
    }

    private string MaterializeFile(string remotePath, FileStat stat)
    {
        var local = CopyPath(remotePath);
        if (_fetched.TryGetValue(remotePath, out var known) && Same(known, stat) && File.Exists(local))
        {
            return local;
        }

        var bytes = _remote.Run(ct => _remote.Agent.ReadAllBytesAsync(remotePath, ct), $"read {remotePath}");

        // .NET reports a symbolic link's own timestamps (ConfigMap files are links): the copy carries those.
        var timestamp = Stat(remotePath, followSymlinks: false) is { Type: FileType.Symlink } link ? link.LastWriteTimeUtc : stat.LastWriteTimeUtc;
        lock (_writeGate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);

            // Written beside and renamed in, so a reader or watcher never sees half a file.
            var staging = local + ".clustercontext-" + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(staging, bytes);
            File.SetLastWriteTimeUtc(staging, timestamp.UtcDateTime);
            File.Move(staging, local, overwrite: true);
            _fetched[remotePath] = stat;
        }

        return local;
    }

    private string MaterializeDirectory(string remotePath, FileStat stat)
    {
        var local = CopyPath(remotePath);
        if (_fetched.TryGetValue(remotePath, out var known) && Same(known, stat) && Directory.Exists(local))
        {
            return local;
        }

        var entries = _remote.Run(ct => _remote.Agent.ReadDirectoryAsync(remotePath, ct), $"list {remotePath}");
        lock (_writeGate)
        {
            Directory.CreateDirectory(local);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            names.Add(entry.Name);
            var child = remotePath.TrimEnd('/') + "/" + entry.Name;
            var childStat = entry.Type == FileType.Directory ? null : Stat(child);
            if (entry.Type == FileType.Directory || childStat?.Type == FileType.Directory)
            {
                lock (_writeGate)
                {
                    Directory.CreateDirectory(CopyPath(child));
                }
            }
            else if (childStat is not null)
            {
                MaterializeFile(child, childStat);
            }
        }

        lock (_writeGate)
        {
            foreach (var stale in Directory.EnumerateFileSystemEntries(local).Where(p => !names.Contains(Path.GetFileName(p)) && !p.Contains(".clustercontext-", StringComparison.Ordinal)))
            {
                if (Directory.Exists(stale))
                {
                    Directory.Delete(stale, recursive: true);
                }
                else
                {
                    File.Delete(stale);
                }
            }

            _fetched[remotePath] = stat;
        }

        return local;
    }

    private void Refresh()
    {
        try
        {
            FlushOwnWrites();
        }
        catch (IOException)
        {
            return;
        }

        foreach (var remotePath in _checked.Keys)
        {
            try
            {
                Revalidate(remotePath);
            }
            catch (IOException)
            {
                // The session may be gone; the next use reports it to the app.
                return;
            }
        }
    }

    private static bool Same(FileStat a, FileStat b) =>
        a.Size == b.Size && a.ModifiedUnixNs == b.ModifiedUnixNs && a.Inode == b.Inode && a.ChangedUnixNs == b.ChangedUnixNs;
}
