namespace ClusterContext.Testing.Kube;

/// <summary>A write the server refuses: the HTTP code, the Status reason and message to answer with.</summary>
internal sealed class PatchException(int code, string reason, string message) : Exception(message)
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;

    /// <summary>400: the request could not be read (bad JSON, a malformed patch).</summary>
    public static PatchException BadRequest(string message) => new(400, "BadRequest", message);

    /// <summary>422: the request was read but cannot be applied, or its result is not a valid object.</summary>
    public static PatchException Invalid(string message) => new(422, "Invalid", message);
}
