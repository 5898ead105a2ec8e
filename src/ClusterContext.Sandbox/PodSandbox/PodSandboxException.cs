namespace ClusterContext.Testing.Sandbox;

/// <summary>A pod sandbox could not be started (or its prerequisites are missing).</summary>
public sealed class PodSandboxException : Exception
{
    /// <summary>Creates an exception.</summary>
    public PodSandboxException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public PodSandboxException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public PodSandboxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a failed start step.</summary>
    public PodSandboxException(string step, string message, string? standardError, Exception? innerException = null)
        : base(Format(step, message, standardError), innerException)
    {
        Step = step;
        StandardError = standardError;
    }

    /// <summary>The start step that failed, e.g. <c>start app container</c>; <see langword="null"/> when not tied to a step.</summary>
    public string? Step { get; }

    /// <summary>What the failing command wrote to standard error, if a command failed.</summary>
    public string? StandardError { get; }

    private static string Format(string step, string message, string? standardError) =>
        string.IsNullOrWhiteSpace(standardError)
            ? $"Pod sandbox step '{step}' failed: {message}"
            : $"Pod sandbox step '{step}' failed: {message}{System.Environment.NewLine}stderr: {standardError.Trim()}";
}
