using ClusterContext.Kube;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Session;

/// <summary>
/// The path from <c>target</c> to a session: kubeconfig, target pod, agent started as an ephemeral container,
/// port-forward to it, session handshake over the port-forward.
/// </summary>
internal static class KubeConnector
{
    /// <summary>How long a started agent may take to accept its first session.</summary>
    private static readonly TimeSpan ListenGrace = TimeSpan.FromSeconds(10);

    public static async Task<(AgentClient Agent, string Description)> ConnectAsync(ClusterContextOptions options, ILoggerFactory? loggerFactory, ILogger logger, CancellationToken cancellationToken)
    {
        var target = KubeTarget.Parse(options.Target!);
        var endpoint = KubeConfigLoader.Load(options.Context, options.Namespace);
        var api = new KubeApiClient(endpoint);
        var owned = false;
        try
        {
            SessionLog.Progress(logger, $"Resolving {target} in namespace '{endpoint.Namespace}' (context '{endpoint.Context}', {endpoint.Server})");
            var resolved = await TargetResolver.ResolveAsync(api, target, endpoint.Namespace, cancellationToken).ConfigureAwait(false);
            var progress = new LogProgress(logger);
            // The agent exits 2 s after the session ends, or after 60 s if it never comes: nothing stays behind in the pod.
            var spec = new AgentContainerSpec(options.Agent.Image, options.Agent.Port, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2), []);
            var started = await EphemeralAgent.StartAsync(api, resolved, spec, progress, options.Timeout, cancellationToken).ConfigureAwait(false);
            var description = $"{target} (pod {resolved.Namespace}/{resolved.Pod}, container {resolved.Container}) via port-forward";
            var deadline = DateTimeOffset.UtcNow + ListenGrace;
            while (true)
            {
                var stream = await PortForwardStream.OpenAsync(api, resolved.Namespace, resolved.Pod, started.Port, cancellationToken, ownsClient: true).ConfigureAwait(false);
                try
                {
                    var agent = await AgentClient.ConnectAsync(stream, started.Token, $"ClusterContext {AppDomain.CurrentDomain.FriendlyName}",
                        loggerFactory: loggerFactory, cancellationToken: cancellationToken).ConfigureAwait(false);
                    owned = true;
                    return (agent, description);
                }
                catch (IOException) when (DateTimeOffset.UtcNow < deadline)
                {
                    // The container runs but the agent may not listen yet: try again shortly.
                    await stream.DisposeAsync().ConfigureAwait(false);
                    api = new KubeApiClient(endpoint);
                    await Task.Delay(200, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (!owned)
            {
                api.Dispose();
            }
        }
    }

    private sealed class LogProgress(ILogger logger) : IProgress<string>
    {
        public void Report(string value) => SessionLog.Progress(logger, value);
    }
}
