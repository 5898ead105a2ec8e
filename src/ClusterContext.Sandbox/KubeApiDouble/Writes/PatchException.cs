namespace ClusterContext.Testing.Kube;

/// <summary>A write the server refuses: the HTTP code, the Status reason and message to answer with.</summary>
internal sealed class PatchException(int code, string reason, string message) : Exception(message)
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;

    /// <summary>400: the request could not be read (bad JSON, a malformed patch).</summary>
    public static PatchException BadRequest(string message) => new(400, "BadRequest", message);

    /// <summary>422: the request was read but cannot be applied.</summary>
    public static PatchException Invalid(string message) => new(422, "Invalid", message);

    /// <summary>422 for an object that fails validation, with the field as a cause (kubectl prints "The Kind "name" is invalid: field: detail").</summary>
    public static PatchException InvalidField(string kind, string name, string field, string causeType, string detail) =>
        new(422, "Invalid", $"{kind} \"{name}\" is invalid: {field}: {detail}") { Kind = kind, Field = field, CauseType = causeType, Detail = detail };

    /// <summary>
    /// 422 for a JSON patch that cannot apply, as the server words it: a general message, and the patch library's
    /// words as the one cause.
    /// </summary>
    public static PatchException NotApplicable(string detail) =>
        new(422, "Invalid", "the server rejected our request due to an error in our request") { Kind = "", CauseType = "UnexpectedServerResponse", Detail = detail };

    /// <summary>The kind named in the Status details (an invalid object's kind; else the resource).</summary>
    public string? Kind { get; private init; }

    public string? Field { get; private init; }

    public string? CauseType { get; private init; }

    public string? Detail { get; private init; }
}
