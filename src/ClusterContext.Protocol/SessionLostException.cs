namespace ClusterContext.Protocol;

/// <summary>The connection to the peer ended while an operation was waiting on it.</summary>
internal sealed class SessionLostException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SessionLostException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
