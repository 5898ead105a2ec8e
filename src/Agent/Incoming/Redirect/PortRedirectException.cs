namespace ClusterContext.Agent.Incoming.Redirect;

/// <summary>The pod's ports cannot be redirected (or a redirect cannot be changed); the message names the fix.</summary>
internal sealed class PortRedirectException : Exception
{
    public PortRedirectException()
    {
    }

    public PortRedirectException(string message)
        : base(message)
    {
    }

    public PortRedirectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PortRedirectException(string message, int errno)
        : base(message) => Errno = errno;

    /// <summary>The errno the kernel answered, or 0.</summary>
    public int Errno { get; }
}
