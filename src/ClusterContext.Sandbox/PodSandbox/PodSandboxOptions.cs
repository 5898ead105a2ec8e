using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Testing.Sandbox;

/// <summary>What one <see cref="PodSandbox"/> emulates: the pod's identity, its app container and its services.</summary>
public sealed class PodSandboxOptions
{
    /// <summary>The Kubernetes namespace of the pod. Default <c>shop</c>.</summary>
    public string Namespace { get; set; } = "shop";

    /// <summary>The pod name, also its host name. Default <c>orders-7d9f8-abcde</c>.</summary>
    public string PodName { get; set; } = "orders-7d9f8-abcde";

    /// <summary>
    /// The app container's environment, exactly: the process gets these variables and no others.
    /// Default: <c>PATH</c>, <c>HOSTNAME</c>, <c>HOME</c>, <c>ORDERS_MODE=sandbox</c>, <c>SERVICE_NAME=orders</c>
    /// and the <c>KUBERNETES_SERVICE_*</c> / <c>KUBERNETES_PORT*</c> variables a kubelet sets (service IP 10.96.0.1).
    /// </summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["HOSTNAME"] = "orders-7d9f8-abcde",
        ["HOME"] = "/root",
        ["ORDERS_MODE"] = "sandbox",
        ["SERVICE_NAME"] = "orders",
        ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1",
        ["KUBERNETES_SERVICE_PORT"] = "443",
        ["KUBERNETES_SERVICE_PORT_HTTPS"] = "443",
        ["KUBERNETES_PORT"] = "tcp://10.96.0.1:443",
        ["KUBERNETES_PORT_443_TCP"] = "tcp://10.96.0.1:443",
        ["KUBERNETES_PORT_443_TCP_PROTO"] = "tcp",
        ["KUBERNETES_PORT_443_TCP_PORT"] = "443",
        ["KUBERNETES_PORT_443_TCP_ADDR"] = "10.96.0.1",
    };

    /// <summary>
    /// Pod-only files by absolute container path (ConfigMap- and Secret-like volumes). Files that share a directory
    /// become one volume mounted there with the kubelet's atomic-writer layout; a file directly in a directory the
    /// root file system itself has (<c>/</c>, <c>/etc</c>, <c>/tmp</c>, ...) is mounted alone, like a <c>subPath</c>.
    /// Default: <c>/etc/config/app.json</c> and <c>/etc/secrets/db/password</c>.
    /// </summary>
    public IDictionary<string, byte[]> Files { get; } = new Dictionary<string, byte[]>(StringComparer.Ordinal)
    {
        ["/etc/config/app.json"] = Encoding.UTF8.GetBytes("{\"orders\":{\"mode\":\"sandbox\",\"maxItems\":25}}\n"),
        ["/etc/secrets/db/password"] = Encoding.UTF8.GetBytes("s3cr3t-sandbox-password"),
    };

    /// <summary>The service-account token at <c>/var/run/secrets/kubernetes.io/serviceaccount/token</c>. Default: a fake JWT.</summary>
    public string ServiceAccountToken { get; set; } = FakeServiceAccountToken.Value;

    /// <summary>The PEM written to <c>ca.crt</c> next to the token. Default <see langword="null"/>: a freshly generated self-signed CA.</summary>
    public string? ServiceAccountCaCertificatePem { get; set; }

    /// <summary>The app container's command, resolved inside its root. Default <c>/usr/bin/sleep infinity</c>.</summary>
    public IList<string> AppCommand { get; } = ["/usr/bin/sleep", "infinity"];

    /// <summary>
    /// Whether the app's environment also gets the variables a kubelet injects for the services of the pod's namespace
    /// (<c>REDIS_SERVICE_HOST</c>, <c>REDIS_SERVICE_PORT</c>, <c>REDIS_PORT_6379_TCP...</c> for redis when
    /// <see cref="StartRedis"/>), with the sandbox's addresses. Default <see langword="false"/>.
    /// </summary>
    public bool ServiceVariables { get; set; }

    /// <summary>Whether a <c>redis-server</c> serves <c>redis.&lt;namespace&gt;.svc.cluster.local:6379</c>. Default <see langword="true"/>.</summary>
    public bool StartRedis { get; set; } = true;

    /// <summary>Extra cluster DNS records, name to IPv4 address, served from the start. Default: none.</summary>
    public IDictionary<string, IPAddress> ServiceRecords { get; } = new Dictionary<string, IPAddress>(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long start waits for the app container, DNS and redis to be ready. Default 10 seconds.</summary>
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Where the sandbox logs its steps and teardown problems. Default <see langword="null"/>: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
