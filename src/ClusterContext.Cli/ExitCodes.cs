namespace ClusterContext.Cli;

/// <summary>The exit codes of <c>clusterctx</c> (docs/cli.md lists them); <c>run</c> exits with its program's own.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Something failed that the message names (a <c>doctor</c> check, a file that could not be written).</summary>
    public const int Failed = 1;

    /// <summary>The command line or the configuration (<c>clustercontext.json</c>, <c>CLUSTERCONTEXT_*</c>) is wrong.</summary>
    public const int Usage = 2;

    /// <summary>The cluster, the target or the session could not be reached or used: kubeconfig, API server, RBAC, agent.</summary>
    public const int Unavailable = 3;

    /// <summary><c>session stop</c>: no session of that name runs.</summary>
    public const int NoSuchSession = 4;

    /// <summary><c>run</c>: the program could not be started in the pod's context (as <c>docker run</c>'s 125).</summary>
    public const int RunFailed = 125;

    /// <summary><c>run</c>: the program exists but cannot be executed (as a shell's 126).</summary>
    public const int NotExecutable = 126;

    /// <summary><c>run</c>: no such program (as a shell's 127).</summary>
    public const int NotFound = 127;
}
