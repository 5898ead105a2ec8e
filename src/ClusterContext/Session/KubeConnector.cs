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
            var started = await StartAgentAsync(api, resolved, options, progress, cancellationToken).ConfigureAwait(false);
            var description = $"{target} (pod {resolved.Namespace}/{resolved.Pod}, container {resolved.Container}) via port-forward";
            var deadline = DateTimeOffset.UtcNow + ListenGrace;
            while (true)
            {
                var stream = await PortForwardStream.OpenAsync(api, resolved.Namespace, resolved.Pod, started.Port, cancellationToken).ConfigureAwait(false);
                try
                {
                    var agent = await AgentClient.ConnectAsync(stream, started.Token, $"ClusterContext {AppDomain.CurrentDomain.FriendlyName}",
                        loggerFactory: loggerFactory, cancellationToken: cancellationToken).ConfigureAwait(false);
                    stream.DisposeWith(api); // the session's transport ends the client's life
                    owned = true;
                    return (agent, description);
                }
                catch (IOException) when (DateTimeOffset.UtcNow < deadline)
                {
                    // The container runs but the agent may not listen yet: try again shortly, with the same client.
                    await stream.DisposeAsync().ConfigureAwait(false);
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

    /// <summary>
    /// Starts the agent on the configured port, or on a random one from 40000–59999: sessions to one pod (an agent
    /// lingering after the last, another developer's, a parallel test run) then do not compete for a port, and a port
    /// the pod already uses costs one retry on another.
    /// </summary>
    private static async Task<StartedAgent> StartAgentAsync(IKubeApi api, ResolvedTarget target, ClusterContextOptions options, IProgress<string> progress, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = options.Agent.Port ?? System.Security.Cryptography.RandomNumberGenerator.GetInt32(40000, 60000);

            // The agent exits 2 s after the session ends, or after 60 s if it never comes: nothing stays behind in the pod.
            var spec = new AgentContainerSpec(options.Agent.Image, port, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2), []);
            try
            {
                return await EphemeralAgent.StartAsync(api, target, spec, progress, options.Agent.StartTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AgentContainerExitedException ex) when (ex.ExitCode == AgentContainerExitedException.ListenFailed && options.Agent.Port is null && attempt < 3)
            {
                progress.Report($"Port {port} is taken in pod {target.Pod}; starting the agent on another port");
            }
            catch (AgentContainerExitedException ex) when (ex.ExitCode == AgentContainerExitedException.ListenFailed && options.Agent.Port is { } fixedPort)
            {
                throw new KubeApiException($"{ex.Message} Port {fixedPort} (agent.port) is taken in the pod: choose another, or leave agent.port unset for a random one.", inner: ex);
            }
        }
    }

    private sealed class LogProgress(ILogger logger) : IProgress<string>
    {
        public void Report(string value) => SessionLog.Progress(logger, value);
    }
}
