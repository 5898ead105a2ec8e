using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ClusterContext.Testing.Kube;

/// <summary>A throwaway certificate authority with a server certificate for loopback and client certificates on demand.</summary>
public sealed class TestPki : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The <c>kubernetes</c> service's cluster IP the server certificate names, as a cluster's API server certificate does.</summary>
    public static readonly IPAddress KubernetesServiceIP = IPAddress.Parse("10.96.0.1");

    /// <summary>
    /// Creates the CA and the server certificate, valid for loopback and localhost, and for what an API server's
    /// certificate names in a cluster: kubernetes, kubernetes.default, kubernetes.default.svc,
    /// kubernetes.default.svc.cluster.local and the service IP 10.96.0.1.
    /// </summary>
    public TestPki(string name = "sandbox-cluster-ca")
    {
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        names.AddIpAddress(KubernetesServiceIP);
        names.AddDnsName("kubernetes");
        names.AddDnsName("kubernetes.default");
        names.AddDnsName("kubernetes.default.svc");
        names.AddDnsName("kubernetes.default.svc.cluster.local");
        Server = Issue("kube-apiserver", null, names.Build(), serverAuth: true);
    }

    /// <summary>The CA certificate.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The server's certificate with its key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>PEM of the CA certificate.</summary>
    public string AuthorityPem => Authority.ExportCertificatePem();

    /// <summary>Issues a client certificate for <paramref name="user"/> in <paramref name="group"/>, as the API server reads them (CN, O).</summary>
    public X509Certificate2 IssueClient(string user, string? group = null) => Issue(user, group, null, serverAuth: false);

    /// <summary>PEM of a certificate and PEM of its key.</summary>
    public static (string Certificate, string Key) ToPem(X509Certificate2 certificate) =>
        (certificate.ExportCertificatePem(), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

    /// <summary>Whether <paramref name="certificate"/> was issued by this CA.</summary>
    public bool Issued(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Server.Dispose();
        Authority.Dispose();
        _caKey.Dispose();
    }

    private X509Certificate2 Issue(string commonName, string? organization, X509Extension? names, bool serverAuth)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256); // owned by the returned certificate
        var subject = organization is null ? $"CN={commonName}" : $"CN={commonName}, O={organization}";
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (names is not null)
        {
            request.CertificateExtensions.Add(names);
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(Authority.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30), serial);
        return issued.CopyWithPrivateKey(key);
    }
}
