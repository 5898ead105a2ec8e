namespace ClusterContext.EndToEndTests;

/// <summary>Busy threads on every core for as long as it lives: the loaded machine a test runs the app on.</summary>
public sealed class CpuLoad : IDisposable
{
    private readonly List<Thread> _threads;
    private int _stop;

    public CpuLoad()
    {
        _threads = [.. Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Thread(Spin) { IsBackground = true, Name = "cpu load" })];
        _threads.ForEach(t => t.Start());
    }

    public void Dispose()
    {
        Volatile.Write(ref _stop, 1);
        _threads.ForEach(t => t.Join());
    }

    private void Spin()
    {
        var x = 1UL;
        while (Volatile.Read(ref _stop) == 0)
        {
            x = (x * 6364136223846793005UL) + 1442695040888963407UL;
        }

        GC.KeepAlive(x);
    }
}
