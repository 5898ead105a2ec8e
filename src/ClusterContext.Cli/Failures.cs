using ClusterContext.Kube;

namespace ClusterContext.Cli;

/// <summary>What a command's exception means for the user: a message on stderr and an exit code.</summary>
internal static class Failures
{
    public static async Task<int> RunAsync(TextWriter error, Func<Task<int>> command)
    {
        try
        {
            return await command().ConfigureAwait(false);
        }
        catch (Exception ex) when (Classify(ex) is { } code)
        {
            await error.WriteLineAsync($"clusterctx: {ex.Message}").ConfigureAwait(false);
            return code;
        }
    }

    /// <summary>The exit code of a failure the user can act on; null for a fault of clusterctx's own (it propagates with its stack).</summary>
    public static int? Classify(Exception ex) => ex switch
    {
        CliException cli => cli.ExitCode,
        ConfigurationException => ExitCodes.Usage,
        KubeConfigException or KubeApiException or TargetResolutionException or ClusterContextUnavailableException => ExitCodes.Unavailable,
        IOException or System.Net.Sockets.SocketException or TimeoutException => ExitCodes.Unavailable,
        UnauthorizedAccessException => ExitCodes.Failed,
        OperationCanceledException => 130,
        _ => null,
    };
}
