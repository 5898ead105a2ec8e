namespace ClusterContext.Kube;

/// <summary>The kubeconfig cannot be used as asked; the message names the file, context or field and what to do.</summary>
internal sealed class KubeConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KubeConfigException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public KubeConfigException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
