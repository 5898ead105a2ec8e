using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Runtime.InteropServices;
using ClusterContext.Testing.Cluster;
using ClusterContext.Testing.Kube;

// A local cluster for trying ClusterContext without one: the Kubernetes API double with pod sandboxes behind it.
//   dotnet run --project tests/SandboxCluster -- --kubeconfig PATH
// serves until interrupted (Ctrl+C or SIGTERM), then removes everything it made, and the kubeconfig it wrote.
const string Usage = """
    usage: SandboxCluster --kubeconfig PATH

    Starts a local stand-in for a Kubernetes cluster (Linux, root): the API server double on loopback HTTPS and, behind
    it, namespace 'shop' with deployment 'orders' (one ready pod in a real network and mount namespace sandbox),
    services 'redis' and 'web'. Writes a kubeconfig (CA + client certificate) to PATH and serves until interrupted;
    then it removes every namespace, mount, process and route it made, and PATH.
    """;

string? kubeconfig = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--kubeconfig" when i + 1 < args.Length:
            kubeconfig = Path.GetFullPath(args[++i]);
            break;
        case "-h" or "--help":
            Console.WriteLine(Usage);
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'.{Environment.NewLine}{Usage}");
            return 2;
    }
}

if (kubeconfig is null)
{
    Console.Error.WriteLine($"--kubeconfig PATH is required: where to write the kubeconfig that reaches this cluster.{Environment.NewLine}{Usage}");
    return 2;
}

if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
{
    Console.Error.WriteLine("The sandbox cluster needs Linux and root (its pod is a set of network and mount namespaces). Run it with sudo.");
    return 1;
}

// Never overwrite a kubeconfig that is not one of ours (it may be the user's own ~/.kube/config), nor one another
// sandbox cluster still serves.
var firstLine = File.Exists(kubeconfig) ? File.ReadLines(kubeconfig).FirstOrDefault("") : null;
if (firstLine is not null && !firstLine.StartsWith(KubeApiServer.KubeconfigMarker, StringComparison.Ordinal))
{
    Console.Error.WriteLine($"{kubeconfig} exists and was not written by the sandbox cluster; it is left alone. Pass a new path to --kubeconfig.");
    return 2;
}

if (firstLine is not null && OwnerProcess().Match(firstLine) is { Success: true } owner && int.Parse(owner.Groups[1].Value, CultureInfo.InvariantCulture) is var pid
    && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}"))
{
    Console.Error.WriteLine($"{kubeconfig} belongs to a sandbox cluster that is still running (process {pid}); stop it first, or pass another path to --kubeconfig.");
    return 2;
}

var clock = Stopwatch.StartNew();
void Say(string line) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.0}s] {line}");

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);

SandboxCluster cluster;
try
{
    cluster = await SandboxCluster.StartAsync(new Progress(Say));
}
catch (Exception ex)
{
    Console.Error.WriteLine($"The sandbox cluster did not start: {ex.Message}");
    return 1;
}

await using (cluster)
{
    Directory.CreateDirectory(Path.GetDirectoryName(kubeconfig)!);
    cluster.WriteKubeconfig(kubeconfig);
    Say("Ready.");
    Console.WriteLine($"""
          API server          {cluster.Api.Address}
          kubeconfig          {kubeconfig} (context 'sandbox', namespace '{SandboxCluster.Namespace}', client certificate of user 'developer')
          deployment/{SandboxCluster.Deployment}   pod {SandboxCluster.Pod} at {cluster.Sandbox.PodIP}, container '{SandboxCluster.Container}' serving HTTP on :{SandboxCluster.AppPort}
          service redis       {cluster.Sandbox.RedisIP}:6379   (redis.{SandboxCluster.Namespace}.svc.cluster.local, from the pod)
          service web         {cluster.WebIP}:{SandboxCluster.WebPort}   (web.{SandboxCluster.Namespace}.svc.cluster.local, from the pod)
          service orders      {SandboxCluster.OrdersIP}:{SandboxCluster.AppPort} -> pod :{SandboxCluster.AppPort}   ({SandboxCluster.OrdersHost}, from pod {SandboxCluster.ClientPod})
          pod client          {cluster.Sandbox.ClientIP}, network namespace {cluster.Sandbox.ClientNetworkNamespace}   (e.g. ip netns exec {cluster.Sandbox.ClientNetworkNamespace} curl {cluster.Sandbox.PodIP}:{SandboxCluster.AppPort})

        Try:  KUBECONFIG={kubeconfig} kubectl get all
              KUBECONFIG={kubeconfig} kubectl logs -f deploy/{SandboxCluster.Deployment}   (also exec -it deploy/{SandboxCluster.Deployment} -- sh, port-forward deploy/{SandboxCluster.Deployment} {SandboxCluster.AppPort})
        Ctrl+C stops the cluster and removes everything it made.
        """);
    await stop.Task;
    Say("Stopping: agents, API server, services, pod sandbox...");
}

// Only our own: another process may have written the path since (after this one's start failed, say).
if (File.Exists(kubeconfig) && File.ReadLines(kubeconfig).FirstOrDefault("").EndsWith($"(process {Environment.ProcessId}).", StringComparison.Ordinal))
{
    File.Delete(kubeconfig);
}

Say($"Stopped. Removed the pod's namespaces, mounts, processes and routes, and {kubeconfig}.");
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.TrySetResult();
}

internal static partial class Program
{
    [GeneratedRegex(@"\(process (\d+)\)\.$")]
    private static partial Regex OwnerProcess();
}
