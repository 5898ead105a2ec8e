namespace ClusterContext.Kube;

/// <summary>Everything needed to talk to one cluster as one user: the outcome of reading the kubeconfig.</summary>
/// <param name="Context">The context name, for messages.</param>
/// <param name="Server">The API server.</param>
/// <param name="Namespace">The default namespace of the context ("default" when it names none).</param>
/// <param name="CertificateAuthority">PEM of the CA to trust; null for the system's.</param>
/// <param name="InsecureSkipTlsVerify">Do not verify the server certificate.</param>
/// <param name="TlsServerName">Name to verify the server certificate against, when not the server's host.</param>
/// <param name="ProxyUrl">HTTP proxy to reach the server through.</param>
/// <param name="Credentials">How to authenticate.</param>
internal sealed record KubeEndpoint(
    string Context, Uri Server, string Namespace, string? CertificateAuthority, bool InsecureSkipTlsVerify,
    string? TlsServerName, Uri? ProxyUrl, KubeCredentials Credentials);

/// <summary>How to authenticate to the API server; at most one kind is set.</summary>
/// <param name="Token">A bearer token given inline.</param>
/// <param name="TokenFile">A file holding the bearer token (re-read when it changes).</param>
/// <param name="ClientCertificate">PEM of a client certificate.</param>
/// <param name="ClientKey">PEM of its private key.</param>
/// <param name="Username">Basic auth user.</param>
/// <param name="Password">Basic auth password.</param>
/// <param name="Exec">A credential plugin to run.</param>
internal sealed record KubeCredentials(
    string? Token = null, string? TokenFile = null, string? ClientCertificate = null, string? ClientKey = null,
    string? Username = null, string? Password = null, ExecPlugin? Exec = null);

/// <summary>An exec credential plugin (<c>client.authentication.k8s.io</c> v1 or v1beta1).</summary>
/// <param name="ApiVersion">The ExecCredential version exchanged with the plugin.</param>
/// <param name="Command">The program to run (a relative path is already resolved against its kubeconfig).</param>
/// <param name="Arguments">Its arguments.</param>
/// <param name="Environment">Variables added to its environment.</param>
/// <param name="InteractiveMode">Never, IfAvailable or Always.</param>
/// <param name="InstallHint">Shown when the program cannot be started.</param>
/// <param name="ClusterInfo">With <c>provideClusterInfo</c>: the cluster as <c>spec.cluster</c> of KUBERNETES_EXEC_INFO (JSON).</param>
internal sealed record ExecPlugin(
    string ApiVersion, string Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment,
    string InteractiveMode, string? InstallHint = null, string? ClusterInfo = null);
