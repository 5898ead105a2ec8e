using System.Diagnostics;
using System.Globalization;
using System.Text;
using ClusterContext.Session;
using ClusterContext.Testing;
using ClusterContext.Testing.Sandbox;

// Starts a local pod sandbox (network and mount namespaces, an app container, cluster DNS, an in-cluster redis),
// runs the real agent inside the pod's network namespace, and shows through the protocol what a process on this
// machine sees of the pod: its environment, a file only the pod has, and the in-cluster redis by its DNS name.
const string ConfigPath = "/etc/config/appsettings.json";
const string Token = "demo-token";
var clock = Stopwatch.StartNew();

void Step(string text) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.0}s] {text}");

if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
{
    Console.Error.WriteLine("The pod sandbox needs Linux and root (it creates network and mount namespaces). Run it with sudo.");
    return 1;
}

Step("starting the pod sandbox (namespaces, app container, cluster DNS, redis)...");
var options = new PodSandboxOptions();
options.Files[ConfigPath] = Encoding.UTF8.GetBytes("""{"Orders":{"Source":"configmap"}}""");
await using var sandbox = await PodSandbox.StartAsync(options);
Step($"pod {sandbox.Namespace}/{sandbox.PodName} is up: pod IP {sandbox.PodIP}, app container pid {sandbox.AppPid}");

Step("starting clusterctx-agent inside the pod's network namespace...");
await using var agent = await sandbox.StartAgentAsync(7777, "--token", Token, "--idle-timeout", "30");

await using var client = await AgentClient.ConnectAsync(new System.Net.IPEndPoint(sandbox.PodIP, 7777), Token, "sandbox-demo");
Step($"session {client.Agent.SessionId} open with agent {client.Agent.AgentVersion} (round trip {(await client.PingAsync()).TotalMilliseconds:0.0} ms)");

Console.WriteLine();
Console.WriteLine("The pod's environment (from the app container's process):");
foreach (var (name, value) in await client.GetEnvironmentAsync())
{
    Console.WriteLine($"  {name}={value}");
}

Console.WriteLine();
Console.WriteLine($"{ConfigPath} (exists on this machine: {File.Exists(ConfigPath)}):");
Console.WriteLine($"  {Encoding.UTF8.GetString(await client.ReadAllBytesAsync(ConfigPath))}");

Console.WriteLine();
var answer = await client.ResolveAsync("redis");
Console.WriteLine($"DNS, resolved in the pod: redis -> {answer.QueriedName} -> {string.Join(", ", answer.Addresses)}");

var connection = await client.ConnectTcpAsync(sandbox.RedisHostName, 6379);
await using (connection)
{
    await connection.Stream.WriteAsync("PING\r\n"u8.ToArray());
    var reply = new byte[7];
    await connection.Stream.ReadExactlyAsync(reply);
    Console.WriteLine($"TCP through the agent to {sandbox.RedisHostName}:6379: PING -> {Encoding.ASCII.GetString(reply).TrimEnd()}");
}

Console.WriteLine();
Step("running samples/OrdersConsole on this machine, first as it is, then with DOTNET_STARTUP_HOOKS=ClusterContext.dll:");
await RunSampleAsync(withHook: false);
await RunSampleAsync(withHook: true);

Console.WriteLine();
Step("done; tearing down the agent and the sandbox");
return 0;

async Task RunSampleAsync(bool withHook)
{
    var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "OrdersConsole.dll")])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        WorkingDirectory = Path.GetTempPath(),
    };
    info.Environment["ORDERS_CONFIG"] = ConfigPath;
    info.Environment.Remove("ORDERS_MODE");

    // Without the hook "redis" would be looked up by this machine's resolver: leave the network alone then.
    info.Environment["REDIS_HOST"] = withHook ? "redis" : "";
    if (withHook)
    {
        info.Environment["DOTNET_STARTUP_HOOKS"] = Path.Combine(AppContext.BaseDirectory, "ClusterContext.dll");
        info.Environment["CLUSTERCONTEXT_AGENT_ADDRESS"] = $"{sandbox.PodIP}:7777";
        info.Environment["CLUSTERCONTEXT_AGENT_TOKEN"] = Token;
    }

    using var sample = Process.Start(info)!;
    var output = await sample.StandardOutput.ReadToEndAsync();
    var errors = await sample.StandardError.ReadToEndAsync();
    await sample.WaitForExitAsync();
    Console.WriteLine(withHook ? "  with the hook (the pod's context):" : "  without the hook (this machine):");
    foreach (var line in (output + errors).Split('\n', StringSplitOptions.RemoveEmptyEntries))
    {
        Console.WriteLine($"    {line}");
    }
}
