using System.Diagnostics;
using System.Globalization;
using ClusterContext.Testing.Sandbox;

namespace ClusterContext.Testing;

/// <summary>Runs the real agent inside a pod sandbox's network namespace, serving its app container, as an ephemeral container would.</summary>
public static class SandboxAgent
{
    public static Task<AgentProcess> StartAgentAsync(this PodSandbox sandbox, int port, params string[] arguments) =>
        AgentProcess.StartAsync(
            ["--listen", $"0.0.0.0:{port}", "--target-pid", sandbox.AppPid.ToString(CultureInfo.InvariantCulture), .. arguments],
            (file, args) => new ProcessStartInfo("ip", ["netns", "exec", sandbox.PodNetworkNamespace, file, .. args]));
}

/// <summary>A tiny HTTP service in a sandbox's services namespace (socat answering every request with one body), killed on dispose.</summary>
public sealed class SandboxWebService : IAsyncDisposable
{
    private readonly Process _process;

    private SandboxWebService(Process process, string hostName, int port)
    {
        _process = process;
        HostName = hostName;
        Port = port;
    }

    public string HostName { get; }

    public int Port { get; }

    /// <summary>
    /// Serves <paramref name="body"/> at <paramref name="port"/> on <paramref name="address"/> (default: the redis address),
    /// as <c>web.&lt;namespace&gt;.svc.cluster.local</c>; over TLS with a fresh self-signed certificate when <paramref name="tls"/> is set.
    /// </summary>
    public static async Task<SandboxWebService> StartAsync(PodSandbox sandbox, int port, string body, bool tls = false, System.Net.IPAddress? address = null)
    {
        address ??= sandbox.RedisIP;
        var response = Path.Combine(sandbox.TempPath, $"web-{port}.http");
        await File.WriteAllTextAsync(response, $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        var listen = $"TCP-LISTEN:{port},bind={address},reuseaddr,fork";
        if (tls)
        {
            var pem = Path.Combine(sandbox.TempPath, $"web-{port}.pem");
            using (var openssl = Process.Start(new ProcessStartInfo("openssl",
                ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=web", "-keyout", pem + ".key", "-out", pem + ".crt"]) { RedirectStandardError = true })!)
            {
                await openssl.StandardError.ReadToEndAsync();
                await openssl.WaitForExitAsync();
            }

            await File.WriteAllTextAsync(pem, await File.ReadAllTextAsync(pem + ".key") + await File.ReadAllTextAsync(pem + ".crt"));
            listen = $"OPENSSL-LISTEN:{port},bind={address},reuseaddr,fork,cert={pem},verify=0";
        }

        var process = Process.Start(new ProcessStartInfo("ip",
            ["netns", "exec", sandbox.ServicesNetworkNamespace, "socat", listen, $"SYSTEM:cat {response}"])
        {
            // socat reports every client that hangs up early; that is not news here.
            RedirectStandardError = true,
        })!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var hostName = $"web.{sandbox.Namespace}.svc.cluster.local";
        if (!tls)
        {
            await sandbox.AddServiceRecordAsync(hostName, address);
        }
        return new SandboxWebService(process, hostName, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
