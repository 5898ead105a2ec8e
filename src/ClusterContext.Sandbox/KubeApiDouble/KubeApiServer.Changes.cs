using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace ClusterContext.Testing.Kube;

public sealed partial class KubeApiServer
{
    /// <summary>
    /// The objects of <paramref name="resource"/> in <paramref name="namespace"/> as a watch sees them, in process:
    /// each current one as ADDED, then every change (ADDED, MODIFIED, DELETED) in order, until cancelled or the
    /// server stops. For parts that act on objects as a cluster's controllers do (the kubelet's volume updates).
    /// </summary>
    public async IAsyncEnumerable<(string Type, JsonObject Object)> WatchAsync(string resource, string @namespace, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prefix = Key(resource, @namespace, "");
        var events = Channel.CreateUnbounded<(string Type, JsonObject Object)>(new UnboundedChannelOptions { SingleReader = true });
        var id = Interlocked.Increment(ref _watcherIds);
        lock (_changes)
        {
            _watchers[id] = (prefix, events);
            foreach (var (key, value) in _objects.OrderBy(o => o.Key, StringComparer.Ordinal))
            {
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    events.Writer.TryWrite(("ADDED", (JsonObject)value.DeepClone()));
                }
            }
        }

        using var end = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        try
        {
            while (true)
            {
                (string, JsonObject) next;
                try
                {
                    next = await events.Reader.ReadAsync(end.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                yield return next;
            }
        }
        finally
        {
            _watchers.TryRemove(id, out _);
        }
    }
}
