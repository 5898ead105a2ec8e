namespace ClusterContext;

/// <summary>The configuration is invalid; the message names the file, the key's path and what is expected there.</summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ConfigurationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
