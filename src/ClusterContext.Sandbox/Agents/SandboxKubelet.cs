using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Kube;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing;

/// <summary>
/// The kubelet's part for one pod sandbox behind the API double: an ephemeral container added to the pod is run in
/// the sandbox (the real agent, in the pod's network namespace, with the container's arguments and environment), its
/// state is reported back to the pod's status (running, then terminated when it exits), an image other than the
/// agent's fails to pull, and port-forwards reach the pod's ports on its loopback, from inside its network namespace.
/// It keeps what the app container and each ephemeral container write, for <c>pods/log</c>, and runs <c>pods/exec</c>
/// commands in the app container as a container runtime does.
/// </summary>
public sealed class SandboxKubelet : IAsyncDisposable
{
    private static readonly string[] s_defaultTolerations = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];
    private static readonly string[] s_podConditions = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
    private readonly KubeApiServer _server;
    private readonly PodSandbox _sandbox;
    private readonly ConcurrentQueue<AgentProcess> _agents = new();
    private readonly List<Task> _watches = [];
    private readonly string _podName;
    private readonly ContainerLog _appLog = new();
    private readonly ConcurrentDictionary<string, ContainerLog> _ephemeralLogs = new(StringComparer.Ordinal);

    /// <summary>Serves the pod named <paramref name="podName"/> in the sandbox's namespace from <paramref name="sandbox"/>.</summary>
    public SandboxKubelet(KubeApiServer server, PodSandbox sandbox, string podName)
    {
        _server = server;
        _sandbox = sandbox;
        _podName = podName;
        server.StartEphemeralContainer = StartAsync;
        server.ContainerLogs = Log;
        server.Exec = ExecAsync;
        sandbox.AppOutput.Watch((time, isError, text) => _appLog.Append(time, isError ? "stderr" : "stdout", text));
        server.PortForwardConnect = (ns, name, port, cancellationToken) => (ns, name) == (sandbox.Namespace, podName)
            ? ConnectInPodAsync(port, cancellationToken)
            : throw new SocketException((int)SocketError.ConnectionRefused);
    }

    /// <summary>
    /// Connects to localhost:<paramref name="port"/> inside the pod's network namespace, as the kubelet's port-forward
    /// does (IPv4 loopback first, then IPv6): a port-forward reaches what listens on the pod's loopback only.
    /// </summary>
    private async Task<Socket> ConnectInPodAsync(int port, CancellationToken cancellationToken)
    {
        SocketException? refused = null;
        foreach (var (family, address) in new[] { (AddressFamily.InterNetwork, IPAddress.Loopback), (AddressFamily.InterNetworkV6, IPAddress.IPv6Loopback) })
        {
            var socket = _sandbox.CreatePodSocket(family, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                refused ??= ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw refused!;
    }

    /// <summary>The images this node can pull; others end in <c>ImagePullBackOff</c>. Default: the agent's image repository.</summary>
    public Func<string, bool> CanPull { get; set; } = image => image.StartsWith("clustercontext/agent", StringComparison.Ordinal);

    /// <summary>How long after reporting an agent container running its agent starts (listening). Default: none.</summary>
    public TimeSpan ListenDelay { get; set; }

    /// <summary>The agents started for ephemeral containers, running or exited.</summary>
    public IReadOnlyCollection<AgentProcess> Agents => [.. _agents];

    /// <summary>
    /// The pod object a kubelet would report for the sandbox: its app container <paramref name="container"/> (image,
    /// ports, the sandbox's environment), running and ready, at the sandbox's pod IP.
    /// </summary>
    public static JsonObject PodObject(PodSandbox sandbox, string name, string container, string image, IReadOnlyDictionary<string, string> labels, params int[] ports)
    {
        var started = ContainerStates.Now();
        return new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = sandbox.Namespace,
                ["labels"] = new JsonObject([.. labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]),
            },
            ["spec"] = new JsonObject
            {
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = container,
                    ["image"] = image,
                    ["imagePullPolicy"] = "IfNotPresent",
                    ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)new JsonObject { ["containerPort"] = p, ["protocol"] = "TCP" })]),
                    ["resources"] = new JsonObject(),
                    ["terminationMessagePath"] = "/dev/termination-log",
                    ["terminationMessagePolicy"] = "File",
                    ["env"] = new JsonArray([.. sandbox.Environment
                        .Where(e => e.Key is not ("PATH" or "HOSTNAME" or "HOME") && !e.Key.StartsWith("KUBERNETES_", StringComparison.Ordinal))
                        .Select(e => (JsonNode)new JsonObject { ["name"] = e.Key, ["value"] = e.Value })]),
                }),
                ["serviceAccountName"] = "default",
                ["serviceAccount"] = "default", // the deprecated alias the server still fills in
                ["nodeName"] = "sandbox-node",
                ["hostname"] = sandbox.PodName,
                // What the API server's defaulting and admission add to every pod.
                ["dnsPolicy"] = "ClusterFirst",
                ["enableServiceLinks"] = true,
                ["preemptionPolicy"] = "PreemptLowerPriority",
                ["priority"] = 0,
                ["restartPolicy"] = "Always",
                ["schedulerName"] = "default-scheduler",
                ["securityContext"] = new JsonObject(),
                ["terminationGracePeriodSeconds"] = 30,
                ["tolerations"] = new JsonArray([.. s_defaultTolerations.Select(key => (JsonNode)new JsonObject
                {
                    ["effect"] = "NoExecute",
                    ["key"] = key,
                    ["operator"] = "Exists",
                    ["tolerationSeconds"] = 300,
                })]),
            },
            ["status"] = new JsonObject
            {
                ["phase"] = "Running",
                ["podIP"] = sandbox.PodIP.ToString(),
                ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = sandbox.PodIP.ToString() }),
                ["hostIP"] = sandbox.HostIP.ToString(),
                ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = sandbox.HostIP.ToString() }),
                ["qosClass"] = "BestEffort", // no container asks for resources
                ["startTime"] = started,
                ["conditions"] = new JsonArray([.. s_podConditions.Select(c => (JsonNode)new JsonObject
                {
                    ["lastProbeTime"] = null,
                    ["lastTransitionTime"] = started,
                    ["status"] = "True",
                    ["type"] = c,
                })]),
                ["containerStatuses"] = new JsonArray(new JsonObject
                {
                    ["containerID"] = ContainerStates.NewContainerId(),
                    ["image"] = image,
                    ["imageID"] = ContainerStates.ImageId(image),
                    ["lastState"] = new JsonObject(),
                    ["name"] = container,
                    ["ready"] = true,
                    ["restartCount"] = 0,
                    ["started"] = true,
                    ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = started } },
                }),
            },
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        await Task.WhenAll(_watches).WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task<JsonObject> StartAsync(string @namespace, string pod, JsonObject container)
    {
        var image = (string?)container["image"] ?? "";
        if (!CanPull(image))
        {
            return new JsonObject
            {
                ["waiting"] = new JsonObject { ["reason"] = "ImagePullBackOff", ["message"] = $"Back-off pulling image \"{image}\"" },
            };
        }

        if (ListenDelay > TimeSpan.Zero)
        {
            // As a kubelet does: "running" as soon as the process is started, before the agent in it listens.
            lock (_watches)
            {
                _watches.Add(Task.Delay(ListenDelay).ContinueWith(_ => RunAsync(@namespace, pod, container), TaskScheduler.Default).Unwrap());
            }

            return ContainerStates.Running();
        }

        return await RunAsync(@namespace, pod, container);
    }

    private async Task<JsonObject> RunAsync(string @namespace, string pod, JsonObject container)
    {
        // The container shares the target's process namespace, where "--target-pid 1" is the app; here it has its own pid.
        var arguments = container["args"]?.AsArray().Select(a => (string)a!).ToList() ?? [];
        var pid = arguments.IndexOf("--target-pid");
        if (pid >= 0 && pid + 1 < arguments.Count)
        {
            arguments[pid + 1] = _sandbox.AppPid.ToString(CultureInfo.InvariantCulture);
        }

        var environment = container["env"]?.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"] ?? "") ?? [];
        var log = _ephemeralLogs.GetOrAdd((string)container["name"]!, _ => new ContainerLog());
        AgentProcess agent;
        try
        {
            agent = await AgentProcess.StartAsync(arguments, start: (file, args) =>
            {
                var info = new ProcessStartInfo("ip", ["netns", "exec", _sandbox.PodNetworkNamespace, file, .. args]);
                foreach (var (name, value) in environment)
                {
                    info.Environment[name] = value;
                }

                return info;
            }, output: (isError, line) => log.Append(isError ? "stderr" : "stdout", line), native: true);
        }
        catch (AgentStartException ex) when (ex.ExitCode is { } code)
        {
            // The container ran and ended: terminated, with its last log lines as the message (FallbackToLogsOnError).
            log.Complete();
            return ContainerStates.Terminated(code, string.Join("\n", ex.Log.TakeLast(5)));
        }

        _agents.Enqueue(agent);
        lock (_watches)
        {
            _watches.Add(ReportExitAsync(@namespace, pod, (string)container["name"]!, agent));
        }

        return ContainerStates.Running();
    }

    /// <summary>When the container's process ends, its status says so, as the kubelet's would.</summary>
    private async Task ReportExitAsync(string @namespace, string pod, string name, AgentProcess agent)
    {
        int code;
        try
        {
            code = await agent.WaitForExitAsync(Timeout.InfiniteTimeSpan);
        }
        catch (InvalidOperationException)
        {
            code = 137; // killed and disposed at teardown before the exit code was read
        }

        _ephemeralLogs.GetValueOrDefault(name)?.Complete();
        _server.SetEphemeralContainerState(@namespace, pod, name, ContainerStates.Terminated(code));
    }

    /// <summary>The log of a container of this pod: the app's, or an ephemeral container's once started.</summary>
    private ContainerLog? Log(string @namespace, string pod, string container) =>
        (@namespace, pod) != (_sandbox.Namespace, _podName) ? null
        : container == AppContainer() ? _appLog
        : _ephemeralLogs.GetValueOrDefault(container);

    /// <summary>The pod's (first) app container, as the API server has it.</summary>
    private string? AppContainer() => (string?)_server.Get("pods", _sandbox.Namespace, _podName)?["spec"]?["containers"]?[0]?["name"];

    /// <summary>
    /// Runs an exec in the app container as the container runtime does (its namespaces, root, environment, a
    /// terminal when asked), copying the client's streams until the command ends; the client leaving kills it.
    /// </summary>
    private async Task<int> ExecAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        if ((request.Namespace, request.Pod) != (_sandbox.Namespace, _podName) || request.Container != AppContainer())
        {
            throw new InvalidOperationException($"container \"{request.Container}\" of pod \"{request.Pod}\" runs no commands on this node: only the app container does");
        }

        // A client with a terminal sends its size first thing; the command starts with it (briefly awaited).
        var size = default(TerminalSize);
        if (request.Tty)
        {
            using var first = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            first.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                size = await request.TerminalSizes.ReadAsync(first.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or System.Threading.Channels.ChannelClosedException && !cancellationToken.IsCancellationRequested)
            {
                // A client that sends no size: the terminal keeps its default.
            }
        }

        await using var process = _sandbox.StartInAppContainer(request.Command, request.Tty, size.Width, size.Height);
        var outputs = new List<Task> { CopyAsync(process.Output, request.Stdout) };
        if (process.Error is { } error)
        {
            outputs.Add(CopyAsync(error, request.Stderr));
        }

        if (request.Stdin is { } stdin)
        {
            _ = CopyInputAsync(stdin, process);
        }
        else if (!request.Tty)
        {
            process.CloseInput();
        }

        _ = ResizeAsync(request, process);
        var code = await process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(outputs).WaitAsync(cancellationToken);
        return code;
    }

    private static async Task CopyAsync(Stream from, Stream? to)
    {
        try
        {
            await from.CopyToAsync(to ?? Stream.Null);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // The client left; the command is killed with the exec.
        }
    }

    private static async Task CopyInputAsync(Stream stdin, ContainerExec process)
    {
        try
        {
            await stdin.CopyToAsync(process.Input);
            await process.Input.FlushAsync();
            process.CloseInput();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The command ended first, or the client left.
        }
    }

    private static async Task ResizeAsync(ExecRequest request, ContainerExec process)
    {
        try
        {
            await foreach (var size in request.TerminalSizes.ReadAllAsync())
            {
                process.Resize(size.Width, size.Height);
            }
        }
        catch (ObjectDisposedException)
        {
            // The exec ended.
        }
    }
}
