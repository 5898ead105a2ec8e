using ClusterContext.Agent.Dns;
using ClusterContext.Agent.Files;
using ClusterContext.Agent.Hosting;
using ClusterContext.Agent.Incoming;
using ClusterContext.Agent.Target;
using Microsoft.Extensions.Logging;

var options = AgentOptions.Parse(args, out var error);
if (options is null)
{
    if (error is null)
    {
        Console.Out.WriteLine(AgentOptions.Usage);
        return 0;
    }

    Console.Error.WriteLine($"clusterctx-agent: {error}");
    Console.Error.WriteLine("Run 'clusterctx-agent --help' for usage.");
    return 2;
}

using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(LogLevel.Information)
    .AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        console.UseUtcTimestamp = true;
    }));

var target = new TargetProcess(options.TargetPid);
try
{
    target.EnsureAccessible();
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine($"clusterctx-agent: {ex.Message}");
    return 4;
}

var files = new ContainerFileSystem(target);
var resolverFiles = new ContainerResolverFiles(files);
var resolver = new PodResolver(resolverFiles.ReadConfig, resolverFiles.ReadHosts, loggerFactory.CreateLogger("ClusterContext.Agent.Dns"));
// The pod's ports are redirected in an nftables table the agent owns, opened on the first subscription (an agent
// that serves no incoming traffic never touches netfilter, nor needs NET_ADMIN).
using var incoming = new IncomingService(() => new ClusterContext.Agent.Incoming.Redirect.PortRedirector(loggerFactory.CreateLogger("ClusterContext.Agent.Incoming")), loggerFactory);
// Several agents of one pod (one per developer's session) share its incoming traffic through one of them.
using var coordinator = new ClusterContext.Agent.Incoming.Coordination.PodCoordinator(incoming, options.Coordination, loggerFactory);
var server = new AgentServer(options, new AgentRequestHandler(target, files, resolver, resolverFiles, coordinator), loggerFactory);

using var shutdown = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    shutdown.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    shutdown.Cancel();
});

return await server.RunAsync(shutdown.Token).ConfigureAwait(false);
