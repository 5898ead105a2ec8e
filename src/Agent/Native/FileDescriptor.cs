namespace ClusterContext.Agent.Native;

/// <summary>Closes a raw file descriptor at the end of a using block.</summary>
internal readonly struct FileDescriptor(int value) : IDisposable
{
    public int Value { get; } = value;

    public void Dispose()
    {
        if (Value >= 0)
        {
            LibC.Close(Value);
        }
    }
}
