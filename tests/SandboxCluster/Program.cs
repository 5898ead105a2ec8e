using ClusterContext.Testing.Cluster;

// A local cluster for trying ClusterContext without one: the Kubernetes API double with pod sandboxes behind it.
//   dotnet run --project tests/SandboxCluster -- --kubeconfig PATH       (or: clusterctx sandbox --kubeconfig PATH)
// serves until interrupted (Ctrl+C, SIGTERM or SIGHUP), then removes everything it made, and the kubeconfig it wrote.
var usage = $"usage: SandboxCluster --kubeconfig PATH{Environment.NewLine}{Environment.NewLine}{SandboxClusterCommand.Description}";

string? kubeconfig = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--kubeconfig" when i + 1 < args.Length:
            kubeconfig = args[++i];
            break;
        case "-h" or "--help":
            Console.WriteLine(usage);
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'.{Environment.NewLine}{usage}");
            return 2;
    }
}

if (kubeconfig is null)
{
    Console.Error.WriteLine($"--kubeconfig PATH is required: where to write the kubeconfig that reaches this cluster.{Environment.NewLine}{usage}");
    return 2;
}

return await SandboxClusterCommand.RunUntilSignalledAsync(kubeconfig, Console.Out, Console.Error);
