namespace ClusterContext.Protocol;

/// <summary>The peer could not carry out a request (for example a file does not exist in the pod).</summary>
internal sealed class RemoteException : IOException
{
    /// <summary>Creates the exception.</summary>
    public RemoteException(ErrorCode code, string message)
        : base(message) => Code = code;

    /// <summary>The error code the peer reported.</summary>
    public ErrorCode Code { get; }
}
