using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using ClusterContext.Testing.Kube;

namespace ClusterContext.Testing.Cluster;

/// <summary>
/// Runs the sandbox cluster as a program does (<c>clusterctx sandbox</c>, tests/SandboxCluster): starts it, writes its
/// kubeconfig, tells what it serves and how to try it, serves until cancelled, then removes everything it made.
/// </summary>
public static partial class SandboxClusterCommand
{
    /// <summary>What the cluster is, for a command's help.</summary>
    public const string Description = """
        Starts a local stand-in for a Kubernetes cluster (Linux, root): the API server double on loopback HTTPS and, behind
        it, namespace 'shop' with deployment 'orders' (one ready pod in a real network and mount namespace sandbox),
        services 'redis' and 'web'. Writes a kubeconfig (CA + client certificate) to PATH and serves until interrupted;
        then it removes every namespace, mount, process and route it made, and PATH.
        """;

    /// <summary>The line printed once the cluster serves (what scripts wait for).</summary>
    public const string ReadyLine = "Ctrl+C stops the cluster and removes everything it made.";

    /// <summary>
    /// <see cref="RunAsync"/> as a program runs it: until Ctrl+C, SIGTERM or SIGHUP (or <paramref name="cancellationToken"/>).
    /// </summary>
    public static async Task<int> RunUntilSignalledAsync(string kubeconfig, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
        return await RunAsync(kubeconfig, output, error, stop.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves the cluster until <paramref name="stop"/> is cancelled, with its kubeconfig at <paramref name="kubeconfig"/>;
    /// returns the exit code: 0 once stopped, 1 when it could not start, 2 when the kubeconfig path is not usable.
    /// </summary>
    public static async Task<int> RunAsync(string kubeconfig, TextWriter output, TextWriter error, CancellationToken stop)
    {
        kubeconfig = Path.GetFullPath(kubeconfig);
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            await error.WriteLineAsync("The sandbox cluster needs Linux and root (its pod is a set of network and mount namespaces). Run it with sudo.").ConfigureAwait(false);
            return 1;
        }

        // Never overwrite a kubeconfig that is not one of ours (it may be the user's own ~/.kube/config), nor one another
        // sandbox cluster still serves.
        var firstLine = File.Exists(kubeconfig) ? File.ReadLines(kubeconfig).FirstOrDefault("") : null;
        if (firstLine is not null && !firstLine.StartsWith(KubeApiServer.KubeconfigMarker, StringComparison.Ordinal))
        {
            await error.WriteLineAsync($"{kubeconfig} exists and was not written by the sandbox cluster; it is left alone. Pass a new path to --kubeconfig.").ConfigureAwait(false);
            return 2;
        }

        if (firstLine is not null && OwnerProcess().Match(firstLine) is { Success: true } owner && int.Parse(owner.Groups[1].Value, CultureInfo.InvariantCulture) is var pid
            && pid != Environment.ProcessId && Directory.Exists($"/proc/{pid}"))
        {
            await error.WriteLineAsync($"{kubeconfig} belongs to a sandbox cluster that is still running (process {pid}); stop it first, or pass another path to --kubeconfig.").ConfigureAwait(false);
            return 2;
        }

        var clock = Stopwatch.StartNew();
        void Say(string line) => output.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.0}s] {line}");

        SandboxCluster cluster;
        try
        {
            cluster = await SandboxCluster.StartAsync(new Progress(Say), stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Say("Stopped before it was ready; what it had made is removed.");
            return 1;
        }
        catch (Exception ex)
        {
            await error.WriteLineAsync($"The sandbox cluster did not start: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        await using (cluster.ConfigureAwait(false))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(kubeconfig)!);
            cluster.WriteKubeconfig(kubeconfig);
            Say("Ready.");
            await output.WriteLineAsync($"""
                  API server          {cluster.Api.Address}
                  kubeconfig          {kubeconfig} (context 'sandbox', namespace '{SandboxCluster.Namespace}', client certificate of user 'developer')
                  deployment/{SandboxCluster.Deployment}   pod {SandboxCluster.Pod} at {cluster.Sandbox.PodIP}, container '{SandboxCluster.Container}' serving HTTP on :{SandboxCluster.AppPort}
                  service redis       {cluster.Sandbox.RedisIP}:6379   (redis.{SandboxCluster.Namespace}.svc.cluster.local, from the pod)
                  service web         {cluster.WebIP}:{SandboxCluster.WebPort}   (web.{SandboxCluster.Namespace}.svc.cluster.local, from the pod)
                  service orders      {SandboxCluster.OrdersIP}:{SandboxCluster.AppPort} -> pod :{SandboxCluster.AppPort}   ({SandboxCluster.OrdersHost}, from pod {SandboxCluster.ClientPod})
                  pod client          {cluster.Sandbox.ClientIP}, network namespace {cluster.Sandbox.ClientNetworkNamespace}   (e.g. ip netns exec {cluster.Sandbox.ClientNetworkNamespace} curl {cluster.Sandbox.PodIP}:{SandboxCluster.AppPort})

                Try:  KUBECONFIG={kubeconfig} kubectl get all
                      KUBECONFIG={kubeconfig} kubectl logs -f deploy/{SandboxCluster.Deployment}   (also exec -it deploy/{SandboxCluster.Deployment} -- sh, port-forward deploy/{SandboxCluster.Deployment} {SandboxCluster.AppPort})
                      KUBECONFIG={kubeconfig} clusterctx run -t deployment/{SandboxCluster.Deployment} -- sh -c 'echo $ORDERS_MODE'
                {ReadyLine}
                """).ConfigureAwait(false);
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Asked to stop.
            }

            Say("Stopping: agents, API server, services, pod sandbox...");
        }

        // Only our own: another process may have written the path since (after this one's start failed, say).
        if (File.Exists(kubeconfig) && File.ReadLines(kubeconfig).FirstOrDefault("").EndsWith($"(process {Environment.ProcessId}).", StringComparison.Ordinal))
        {
            File.Delete(kubeconfig);
        }

        Say($"Stopped. Removed the pod's namespaces, mounts, processes and routes, and {kubeconfig}.");
        return 0;
    }

    [GeneratedRegex(@"\(process (\d+)\)\.$")]
    private static partial Regex OwnerProcess();
}
