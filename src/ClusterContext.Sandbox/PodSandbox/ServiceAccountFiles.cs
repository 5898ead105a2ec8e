using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ClusterContext.Testing.Sandbox.FileSystem;

namespace ClusterContext.Testing.Sandbox;

/// <summary>The files of the projected service-account volume every pod gets (token, namespace, ca.crt).</summary>
internal static class ServiceAccountFiles
{
    public static IEnumerable<KeyValuePair<string, byte[]>> Create(PodSandboxOptions options)
    {
        const string directory = ContainerPaths.ServiceAccountDirectory;
        yield return new($"{directory}/token", Encoding.UTF8.GetBytes(options.ServiceAccountToken));
        yield return new($"{directory}/namespace", Encoding.UTF8.GetBytes(options.Namespace));
        yield return new($"{directory}/ca.crt", Encoding.UTF8.GetBytes(options.ServiceAccountCaCertificatePem ?? CreateCaCertificatePem()));
    }

    /// <summary>A real (parseable) CA certificate, because clients load ca.crt into their trust store at startup.</summary>
    private static string CreateCaCertificatePem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=pod-sandbox-cluster-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        return certificate.ExportCertificatePem() + "\n";
    }
}
