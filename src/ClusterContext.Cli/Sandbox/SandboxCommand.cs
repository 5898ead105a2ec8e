using System.CommandLine;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Sandbox;

/// <summary>
/// <c>clusterctx sandbox [--kubeconfig PATH]</c>: the local sandbox cluster, to try everything with no cluster of one's
/// own (Linux, root): serves until Ctrl+C (or SIGTERM, SIGHUP), then removes everything it made.
/// </summary>
internal static class SandboxCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<string>("--kubeconfig")
        {
            Description = "Where to write the kubeconfig that reaches the sandbox cluster (never a kubeconfig it did not write). Default: ./sandbox.kubeconfig.",
            HelpName = "PATH",
            DefaultValueFactory = _ => "sandbox.kubeconfig",
        };
        var command = new Command("sandbox", $"""
            Start the local sandbox cluster (Linux, root) and serve it until Ctrl+C.
            {SandboxClusterCommand.Description}
            """);
        command.Options.Add(kubeconfig);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var code = await SandboxClusterCommand.RunUntilSignalledAsync(parsed.GetValue(kubeconfig)!, parsed.InvocationConfiguration.Output, parsed.InvocationConfiguration.Error, cancellationToken).ConfigureAwait(false);
            return code switch
            {
                0 => ExitCodes.Ok,
                2 => ExitCodes.Usage,
                _ => ExitCodes.Failed,
            };
        });
        return command;
    }
}
