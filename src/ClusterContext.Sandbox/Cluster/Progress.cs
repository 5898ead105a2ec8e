namespace ClusterContext.Testing.Cluster;

/// <summary>Reports progress synchronously, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class Progress(Action<string> report) : IProgress<string>
{
    public void Report(string value) => report(value);
}
