using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;

namespace ClusterContext.Session.Host;

/// <summary>
/// Sends the files processes write in <c>write</c> mode to the pod as soon as they are closed: the host watches each
/// written copy's folder (inotify: closed after writing, or renamed in), so a write reaches the pod whatever happens
/// to the process afterwards (a SIGKILL included: the kernel closes its files). Writes to one file are sent one at a
/// time, each with the copy's content of that moment, so the pod ends with the last.
/// </summary>
internal sealed class HostWriteBack : IDisposable
{
    private readonly Func<CancellationToken, Task<AgentClient>> _agent;
    private readonly Action<string> _warn;
    private readonly int _inotify;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, List<(Client Client, string RemoteDirectory)>> _watches = [];
    private readonly TimeSpan _timeout;

    public HostWriteBack(Func<CancellationToken, Task<AgentClient>> agent, TimeSpan timeout, Action<string> warn)
    {
        _agent = agent;
        _timeout = timeout;
        _warn = warn;
        _inotify = HostInterop.NewInotify();
        if (_inotify >= 0)
        {
            new Thread(ReadEvents) { IsBackground = true, Name = "ClusterContext write-back" }.Start();
        }
    }

    /// <summary>One process's copies: its cache folder and the pod paths it writes.</summary>
    public sealed class Client(string root)
    {
        public string Root => root;

        public ConcurrentDictionary<string, FileState> Files { get; } = new(StringComparer.Ordinal);

        public string CopyPath(string remotePath) => root + "/files" + remotePath;
    }

    /// <summary>A written file: what was last sent, and the send under way.</summary>
    public sealed class FileState
    {
        public (long Length, DateTime Modified) Sent;
        public Task Sending = Task.CompletedTask;
        public bool Again;
    }

    /// <summary>From now on closing <paramref name="remotePath"/>'s copy after a write sends it to the pod.</summary>
    /// <param name="client">The process.</param>
    /// <param name="remotePath">The pod path.</param>
    /// <param name="again">Watched by a host before this one: the copy is sent now, as it may have been written meanwhile.</param>
    public void Watch(Client client, string remotePath, bool again = false)
    {
        var copy = new FileInfo(client.CopyPath(remotePath));
        if (!client.Files.TryAdd(remotePath, new FileState { Sent = copy.Exists && !again ? (copy.Length, copy.LastWriteTimeUtc) : (-1, default) }))
        {
            return;
        }

        if (again && copy.Exists)
        {
            Send(client, remotePath);
        }

        var directory = Path.GetDirectoryName(copy.FullName)!;
        var remoteDirectory = Path.GetDirectoryName(remotePath) ?? "/";
        var watch = _inotify < 0 ? -1 : HostInterop.InotifyAddWatch(_inotify, directory, HostInterop.InCloseWrite | HostInterop.InMovedTo);
        if (watch < 0)
        {
            _warn($"Cannot watch {directory} for writes ({System.Runtime.InteropServices.Marshal.GetLastPInvokeErrorMessage()}); {remotePath} reaches the pod when the process ends its session.");
            return;
        }

        lock (_gate)
        {
            if (!_watches.TryGetValue(watch, out var list))
            {
                _watches[watch] = list = [];
            }

            if (!list.Contains((client, remoteDirectory)))
            {
                list.Add((client, remoteDirectory));
            }
        }
    }

    /// <summary>Sends every written copy that changed since it was last sent, and waits for all sends of <paramref name="client"/>.</summary>
    public async Task FlushAsync(Client client)
    {
        foreach (var (remotePath, state) in client.Files)
        {
            var copy = new FileInfo(client.CopyPath(remotePath));
            if (copy.Exists && (copy.Length, copy.LastWriteTimeUtc) != state.Sent)
            {
                Send(client, remotePath);
            }
        }

        foreach (var state in client.Files.Values)
        {
            Task sending;
            lock (state)
            {
                sending = state.Sending;
            }

            await sending.ConfigureAwait(false);
        }
    }

    /// <summary>The process left: what it wrote is sent, then its folder's watches end.</summary>
    public async Task ForgetAsync(Client client)
    {
        await FlushAsync(client).ConfigureAwait(false);
        lock (_gate)
        {
            foreach (var (watch, list) in _watches.ToList())
            {
                list.RemoveAll(w => w.Client == client);
                if (list.Count == 0)
                {
                    _watches.Remove(watch);
                    _ = HostInterop.InotifyRemoveWatch(_inotify, watch);
                }
            }
        }
    }

    private void ReadEvents()
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var length = HostInterop.ReadEvents(_inotify, buffer);
            if (length <= 0)
            {
                if (length < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 4)
                {
                    continue; // EINTR
                }

                return;
            }

            // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[len]; }
            for (var offset = 0; offset + 16 <= length;)
            {
                var watch = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset));
                var mask = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 4));
                var nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 12));
                var name = Encoding.UTF8.GetString(buffer.AsSpan(offset + 16, nameLength)).TrimEnd('\0');
                offset += 16 + nameLength;
                if ((mask & (HostInterop.InCloseWrite | HostInterop.InMovedTo)) == 0 || name.Length == 0)
                {
                    continue;
                }

                List<(Client Client, string RemoteDirectory)> watchers;
                lock (_gate)
                {
                    watchers = _watches.TryGetValue(watch, out var list) ? [.. list] : [];
                }

                foreach (var (client, remoteDirectory) in watchers)
                {
                    var remotePath = remoteDirectory.TrimEnd('/') + "/" + name;
                    if (client.Files.ContainsKey(remotePath))
                    {
                        Send(client, remotePath);
                    }
                }
            }
        }
    }

    /// <summary>Sends the copy now, or right after the send under way (with the content of that moment).</summary>
    private void Send(Client client, string remotePath)
    {
        var state = client.Files[remotePath];
        lock (state)
        {
            if (!state.Sending.IsCompleted)
            {
                state.Again = true;
                return;
            }

            state.Sending = Task.Run(() => SendLoopAsync(client, remotePath, state));
        }
    }

    private async Task SendLoopAsync(Client client, string remotePath, FileState state)
    {
        while (true)
        {
            await SendOnceAsync(client, remotePath, state).ConfigureAwait(false);
            lock (state)
            {
                if (!state.Again)
                {
                    return;
                }

                state.Again = false;
            }
        }
    }

    private async Task SendOnceAsync(Client client, string remotePath, FileState state)
    {
        var copy = new FileInfo(client.CopyPath(remotePath));
        byte[] content;
        try
        {
            var before = (copy.Length, copy.LastWriteTimeUtc);
            content = await File.ReadAllBytesAsync(copy.FullName).ConfigureAwait(false);
            state.Sent = before;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return; // Removed meanwhile (its process's folder is gone): nothing to send.
        }

        using var timeout = new CancellationTokenSource(_timeout);
        try
        {
            var agent = await _agent(timeout.Token).ConfigureAwait(false);
            await agent.WriteAllBytesAsync(remotePath, content, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or Protocol.RemoteException or Protocol.SessionLostException)
        {
            state.Sent = (-1, default);
            _warn($"Could not write {remotePath} in the pod ({ex.Message}); the change stays in the local copy.");
        }
    }

    public void Dispose()
    {
        if (_inotify >= 0)
        {
            _ = HostInterop.Close(_inotify);
        }
    }
}
