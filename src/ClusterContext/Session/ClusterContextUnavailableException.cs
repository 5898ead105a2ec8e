namespace ClusterContext;

/// <summary>The cluster or the agent could not be reached at start and the session is required.</summary>
public sealed class ClusterContextUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClusterContextUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
