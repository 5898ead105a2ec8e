using System.Collections;
using System.Net;
using ClusterContext.Session;
using ClusterContext.Session.Host;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Cli.Environment;

/// <summary>
/// The pod's environment as the hook imports it (<see cref="EnvironmentImport.Select"/> over the agent's answer):
/// through the session host of these options when one can serve them (started if none runs, so the next command or
/// program starts fast), else through an agent of this command's own.
/// </summary>
internal static class PodEnvironment
{
    public static async Task<Dictionary<string, string>> GetAsync(ClusterContextOptions options, IDictionary environment, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var variables = await GetRawAsync(options, environment, loggers, cancellationToken).ConfigureAwait(false);
        return EnvironmentImport.Select(options.Env, variables);
    }

    private static async Task<IReadOnlyList<KeyValuePair<string, string>>> GetRawAsync(ClusterContextOptions options, IDictionary environment, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("ClusterContext");
        if (options.Target is null && options.Session.Name is null && options.Agent.Address is null)
        {
            throw new CliException("No target: give -t deployment/NAME (or pod/NAME, ...), --session NAME, or set target in clustercontext.json.", ExitCodes.Usage);
        }

        AgentClient agent;

        // The control connection keeps the host from lingering out while the variables are read.
        using var host = SessionHostClient.For(options, environment, logger);
        if (host is not null)
        {
            agent = (await host.OpenAsync(null, cancellationToken).ConfigureAwait(false)).Agent;
        }
        else if (options.Agent.Address is { } address)
        {
            agent = await AgentClient.ConnectAsync(IPEndPoint.Parse(address), options.Agent.Token ?? "", "clusterctx", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        else
        {
            agent = (await KubeConnector.ConnectAsync(options, null, logger, cancellationToken).ConfigureAwait(false)).Agent;
        }

        await using (agent.ConfigureAwait(false))
        {
            return await agent.GetEnvironmentAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
