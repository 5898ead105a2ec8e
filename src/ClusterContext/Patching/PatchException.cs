namespace ClusterContext;

/// <summary>A method could not be patched (or unpatched); the message names the method and the reason. Nothing was written.</summary>
public sealed class PatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public PatchException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
