namespace ClusterContext.Kube;

/// <summary>
/// A call to the Kubernetes API failed. <see cref="StatusCode"/> and <see cref="Reason"/> come from the server's
/// <c>Status</c> object (0 and null when the server was not reached); the message says what to do about it.
/// </summary>
internal class KubeApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KubeApiException(string message, int statusCode = 0, string? reason = null, Exception? inner = null)
        : base(message, inner)
    {
        StatusCode = statusCode;
        Reason = reason;
    }

    /// <summary>The HTTP status (the Status object's <c>code</c>); 0 when no answer came.</summary>
    public int StatusCode { get; }

    /// <summary>The Status object's <c>reason</c>, e.g. <c>NotFound</c>, <c>Forbidden</c>, <c>AlreadyExists</c>.</summary>
    public string? Reason { get; }
}
