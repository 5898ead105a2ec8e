using ClusterContext.Kube;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Session;

/// <summary>
/// The path from <c>target</c> to a session: kubeconfig, target pod, agent started as an ephemeral container,
/// port-forward to it, session handshake over the port-forward.
/// </summary>
internal static class KubeConnector
{
    public static async Task<(AgentClient Agent, string Description, IReadOnlyList<System.Net.IPEndPoint> SessionEndPoints, ResolvedTarget Target)> ConnectAsync(ClusterContextOptions options, ILoggerFactory? loggerFactory, ILogger logger, CancellationToken cancellationToken)
    {
        var started = await StartAsync(options, new LogProgress(logger), cancellationToken).ConfigureAwait(false);
        try
        {
            var agent = await started.ConnectAsync($"ClusterContext {AppDomain.CurrentDomain.FriendlyName}", loggerFactory, cancellationToken, ownsApi: true).ConfigureAwait(false);
            return (agent, started.Description, started.SessionEndPoints, started.Target);
        }
        catch
        {
            started.Dispose();
            throw;
        }
    }

    /// <summary>Resolves the target and starts an agent in its pod; sessions are then opened with <see cref="KubeAgent.ConnectAsync"/>.</summary>
    public static async Task<KubeAgent> StartAsync(ClusterContextOptions options, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var target = KubeTarget.Parse(options.Target!);
        var endpoint = KubeConfigLoader.Load(options.Context, options.Namespace);
        Diagnostics.StartupTrace.Mark("kubeconfig loaded");
        var sessionEndPoints = await SessionEndPointsAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var api = new KubeApiClient(endpoint);
        try
        {
            progress.Report($"Resolving {target} in namespace '{endpoint.Namespace}' (context '{endpoint.Context}', {endpoint.Server})");
            var resolved = await TargetResolver.ResolveAsync(api, target, endpoint.Namespace, cancellationToken).ConfigureAwait(false);
            Diagnostics.StartupTrace.Mark("target resolved (the first connection to the API server, TLS, and its calls)");
            var started = await StartAgentAsync(api, resolved, options, progress, cancellationToken).ConfigureAwait(false);
            Diagnostics.StartupTrace.Mark("agent container running");
            var description = $"{target} (pod {resolved.Namespace}/{resolved.Pod}, container {resolved.Container}) via port-forward";
            return new KubeAgent(api, resolved, started, description, sessionEndPoints);
        }
        catch
        {
            api.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The API server and the proxy in front of it (the kubeconfig's <c>proxy-url</c>, else the environment's proxy
    /// for that URL), resolved here: the app's own connections to them stay local by default, as the session's do.
    /// </summary>
    private static async Task<IReadOnlyList<System.Net.IPEndPoint>> SessionEndPointsAsync(KubeEndpoint endpoint, CancellationToken cancellationToken)
    {
        var uris = new List<Uri> { endpoint.Server };
        if ((endpoint.ProxyUrl ?? System.Net.Http.HttpClient.DefaultProxy.GetProxy(endpoint.Server)) is { } proxy && proxy != endpoint.Server)
        {
            uris.Add(proxy);
        }

        var endPoints = new List<System.Net.IPEndPoint>();
        using var bypass = Hooks.HookBypass.Enter();
        foreach (var uri in uris)
        {
            try
            {
                var addresses = System.Net.IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal]
                    : await System.Net.Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken).ConfigureAwait(false);
                endPoints.AddRange(addresses.Select(a => new System.Net.IPEndPoint(a, uri.Port)));
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Not resolvable here: the session's own connections fail with a clear error of their own.
            }
        }

        return endPoints;
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
            var spec = new AgentContainerSpec(options.Agent.Image, port, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2), Capabilities(options));
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

    /// <summary>NET_ADMIN, to program the port redirect in the pod's network namespace, only when incoming traffic is on; nothing else ever.</summary>
    internal static IReadOnlyList<string> Capabilities(ClusterContextOptions options) =>
        options.Network.Incoming.Mode == IncomingTrafficMode.Off ? [] : ["NET_ADMIN"];

    internal sealed class LogProgress(ILogger logger) : IProgress<string>
    {
        public void Report(string value) => SessionLog.Progress(logger, value);
    }
}

/// <summary>An agent started in a pod and reached through the API server: each session is a port-forward of its own.</summary>
internal sealed class KubeAgent(KubeApiClient api, ResolvedTarget target, StartedAgent started, string description, IReadOnlyList<System.Net.IPEndPoint> sessionEndPoints) : IDisposable
{
    /// <summary>How long a started agent may take to accept its first session.</summary>
    private static readonly TimeSpan ListenGrace = TimeSpan.FromSeconds(10);

    public ResolvedTarget Target => target;

    public StartedAgent Started => started;

    /// <summary>What the session runs in, for messages: the target, its pod and container.</summary>
    public string Description => description;

    /// <summary>The API server (and its proxy): the app's own connections to them stay local.</summary>
    public IReadOnlyList<System.Net.IPEndPoint> SessionEndPoints => sessionEndPoints;

    /// <summary>A new connection to the agent's port (the transport of one session).</summary>
    public Task<PortForwardStream> OpenStreamAsync(CancellationToken cancellationToken) =>
        PortForwardStream.OpenAsync(api, target.Namespace, target.Pod, started.Port, cancellationToken);

    /// <summary>
    /// A session with the agent over a new port-forward. With <paramref name="ownsApi"/> the session's transport ends
    /// the API client's life (a process of its own); else the client stays for more sessions.
    /// </summary>
    public async Task<AgentClient> ConnectAsync(string clientName, ILoggerFactory? loggerFactory, CancellationToken cancellationToken, bool ownsApi = false)
    {
        var deadline = DateTimeOffset.UtcNow + ListenGrace;
        while (true)
        {
            var stream = await OpenStreamAsync(cancellationToken).ConfigureAwait(false);
            Diagnostics.StartupTrace.Mark("port-forward to the agent open");
            try
            {
                var agent = await AgentClient.ConnectAsync(stream, started.Token, clientName, loggerFactory: loggerFactory, cancellationToken: cancellationToken).ConfigureAwait(false);
                Diagnostics.StartupTrace.Mark("agent handshake done");
                if (ownsApi)
                {
                    stream.DisposeWith(api);
                }

                return agent;
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline)
            {
                // The container runs but the agent may not listen yet: try again shortly, with the same client.
                await stream.DisposeAsync().ConfigureAwait(false);
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => api.Dispose();
}
