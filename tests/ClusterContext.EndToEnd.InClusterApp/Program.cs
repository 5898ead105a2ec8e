using System.Net.Sockets;
using k8s;

// Lists the pods of its own namespace with the pod's service account, as a controller in the pod would; then
// connects to the API server's service address raw and says which peer its socket reports.
var config = KubernetesClientConfiguration.InClusterConfig();
using var client = new Kubernetes(config);
var ns = File.ReadAllText("/var/run/secrets/kubernetes.io/serviceaccount/namespace").Trim();
var pods = await client.CoreV1.ListNamespacedPodAsync(ns);
Console.WriteLine($"host\t{config.Host}");
Console.WriteLine($"pods\t{string.Join(",", pods.Items.Select(p => p.Metadata.Name))}");
try
{
    await client.CoreV1.ListNamespacedConfigMapAsync(ns);
    Console.WriteLine("configmaps\tallowed");
}
catch (k8s.Autorest.HttpOperationException ex)
{
    Console.WriteLine($"configmaps\t{(int)ex.Response.StatusCode}");
}

var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST")!;
var port = int.Parse(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT")!, System.Globalization.CultureInfo.InvariantCulture);
using var tcp = new TcpClient();
await tcp.ConnectAsync(host, port);
Console.WriteLine($"raw-peer\t{tcp.Client.RemoteEndPoint}");
