using System.Text;

namespace ClusterContext.Kube;

/// <summary>
/// Reads kubeconfig the way kubectl does: the files of <c>KUBECONFIG</c> (a ':'-separated list) or
/// <c>~/.kube/config</c>; for each named cluster, user and context the first file that defines it wins, as does the
/// first <c>current-context</c>; relative paths resolve against the file that names them; inline <c>-data</c> wins
/// over a path.
/// </summary>
internal static class KubeConfigLoader
{
    /// <summary>Resolves <paramref name="context"/> (or the current context) to an endpoint; <paramref name="namespace"/> overrides its namespace.</summary>
    /// <remarks>
    /// With no kubeconfig file at all, a process running in a pod (<c>KUBERNETES_SERVICE_HOST</c> set and a mounted
    /// service-account token) uses the in-cluster configuration, as client-go does.
    /// </remarks>
    public static KubeEndpoint Load(string? context = null, string? @namespace = null, string? kubeconfig = null, string? home = null, string? serviceAccountFolder = null)
    {
        kubeconfig ??= Environment.GetEnvironmentVariable("KUBECONFIG");
        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(kubeconfig) && !File.Exists(Path.Combine(home, ".kube", "config"))
            && InCluster(serviceAccountFolder ?? ServiceAccountFolder, @namespace) is { } inCluster)
        {
            return inCluster;
        }

        var paths = Paths(kubeconfig, home);
        var clusters = new Dictionary<string, (ClusterEntry Entry, string Folder)>(StringComparer.Ordinal);
        var users = new Dictionary<string, (UserEntry Entry, string Folder)>(StringComparer.Ordinal);
        var contexts = new Dictionary<string, ContextEntry>(StringComparer.Ordinal);
        string? current = null;
        foreach (var path in paths)
        {
            var document = Read(path);
            var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            current ??= string.IsNullOrEmpty(document.CurrentContext) ? null : document.CurrentContext;
            foreach (var entry in document.Clusters)
            {
                if (entry.Name is { } name && entry.Value is { } clusterEntry)
                {
                    clusters.TryAdd(name, (clusterEntry, folder));
                }
            }

            foreach (var entry in document.Users)
            {
                if (entry.Name is { } name && entry.Value is { } userEntry)
                {
                    users.TryAdd(name, (userEntry, folder));
                }
            }

            foreach (var entry in document.Contexts)
            {
                if (entry.Name is { } name && entry.Value is { } value)
                {
                    contexts.TryAdd(name, value);
                }
            }
        }

        var sources = string.Join(", ", paths);
        var contextName = context ?? current
            ?? throw new KubeConfigException($"No context given and no current-context in {sources}. Set \"context\" in clustercontext.json or run 'kubectl config use-context NAME'.");
        if (!contexts.TryGetValue(contextName, out var chosen))
        {
            throw new KubeConfigException($"Context '{contextName}' is not in {sources}; known contexts: {(contexts.Count == 0 ? "none" : string.Join(", ", contexts.Keys.Order()))}.");
        }

        if (chosen.Cluster is null || !clusters.TryGetValue(chosen.Cluster, out var cluster))
        {
            throw new KubeConfigException($"Context '{contextName}' names cluster '{chosen.Cluster}', which is not in {sources}.");
        }

        var user = (Entry: new UserEntry(), Folder: cluster.Folder);
        if (chosen.User is { Length: > 0 } userName && !users.TryGetValue(userName, out user))
        {
            throw new KubeConfigException($"Context '{contextName}' names user '{userName}', which is not in {sources}.");
        }

        return Build(contextName, chosen, cluster.Entry, cluster.Folder, user.Entry, user.Folder, @namespace);
    }

    private static KubeEndpoint Build(string name, ContextEntry context, ClusterEntry cluster, string clusterFolder, UserEntry user, string userFolder, string? @namespace)
    {
        if (!Uri.TryCreate(cluster.Server, UriKind.Absolute, out var server))
        {
            throw new KubeConfigException($"Context '{name}': cluster server '{cluster.Server}' is not a URL.");
        }

        var ca = Pem(cluster.CertificateAuthorityData, cluster.CertificateAuthority, clusterFolder, "certificate-authority");
        if (ca is not null && cluster.InsecureSkipTlsVerify)
        {
            throw new KubeConfigException($"Context '{name}': a certificate authority and insecure-skip-tls-verify cannot both be set; remove one.");
        }

        var hasBasic = !string.IsNullOrEmpty(user.Username) || !string.IsNullOrEmpty(user.Password);
        var providerToken = AuthProviderToken(name, user);
        var hasToken = !string.IsNullOrEmpty(user.Token) || !string.IsNullOrEmpty(user.TokenFile) || providerToken is not null;
        if (hasBasic && hasToken)
        {
            throw new KubeConfigException($"Context '{name}': the user has both a token and a username/password; kubectl refuses that too, keep one.");
        }

        ExecPlugin? exec = null;
        if (user.Exec is { } plugin)
        {
            if (plugin.ApiVersion is not ("client.authentication.k8s.io/v1" or "client.authentication.k8s.io/v1beta1"))
            {
                throw new KubeConfigException($"Context '{name}': exec plugin apiVersion '{plugin.ApiVersion}' is not supported; use client.authentication.k8s.io/v1 or v1beta1.");
            }

            if (string.IsNullOrEmpty(plugin.Command))
            {
                throw new KubeConfigException($"Context '{name}': the exec plugin has no command.");
            }

            if (plugin.ApiVersion.EndsWith("/v1", StringComparison.Ordinal) && string.IsNullOrEmpty(plugin.InteractiveMode))
            {
                throw new KubeConfigException($"Context '{name}': an exec plugin of client.authentication.k8s.io/v1 needs interactiveMode (Never, IfAvailable or Always).");
            }

            var command = plugin.Command.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(plugin.Command)
                ? Path.GetFullPath(Path.Combine(userFolder, plugin.Command))
                : plugin.Command;
            exec = new ExecPlugin(plugin.ApiVersion, command, plugin.Args,
                plugin.Env.Where(e => e.Name is not null).ToDictionary(e => e.Name!, e => e.Value ?? "", StringComparer.Ordinal),
                plugin.InteractiveMode ?? "IfAvailable", string.IsNullOrWhiteSpace(plugin.InstallHint) ? null : plugin.InstallHint.Trim(),
                plugin.ProvideClusterInfo ? ClusterInfo(cluster, server, ca) : null);
        }

        var credentials = new KubeCredentials(
            Token: string.IsNullOrEmpty(user.Token) ? providerToken : user.Token,
            TokenFile: string.IsNullOrEmpty(user.Token) && !string.IsNullOrEmpty(user.TokenFile) ? Resolve(user.TokenFile, userFolder) : null,
            ClientCertificate: Pem(user.ClientCertificateData, user.ClientCertificate, userFolder, "client-certificate"),
            ClientKey: Pem(user.ClientKeyData, user.ClientKey, userFolder, "client-key"),
            Username: string.IsNullOrEmpty(user.Username) ? null : user.Username,
            Password: string.IsNullOrEmpty(user.Password) ? null : user.Password,
            Exec: exec);
        Uri? proxy = null;
        if (!string.IsNullOrEmpty(cluster.ProxyUrl) && !Uri.TryCreate(cluster.ProxyUrl, UriKind.Absolute, out proxy))
        {
            throw new KubeConfigException($"Context '{name}': proxy-url '{cluster.ProxyUrl}' is not a URL.");
        }

        return new KubeEndpoint(name, server, @namespace ?? (string.IsNullOrEmpty(context.Namespace) ? "default" : context.Namespace),
            ca, cluster.InsecureSkipTlsVerify, string.IsNullOrEmpty(cluster.TlsServerName) ? null : cluster.TlsServerName, proxy, credentials);
    }

    /// <summary>
    /// The bearer token of a legacy <c>auth-provider</c>: oidc's <c>id-token</c> as kubectl last refreshed it (this
    /// client does not refresh it); the providers kubectl dropped are named with their replacement.
    /// </summary>
    private static string? AuthProviderToken(string context, UserEntry user) => user.AuthProvider switch
    {
        null => null,
        { Name: "oidc", IdToken: { Length: > 0 } token } => token,
        { Name: "oidc" } => throw new KubeConfigException(
            $"Context '{context}': the oidc auth-provider has no id-token yet; run a kubectl command once to log in, or use an exec plugin such as kubelogin."),
        { Name: "gcp" } => throw new KubeConfigException(
            $"Context '{context}': the gcp auth-provider was removed from kubectl 1.26; install gke-gcloud-auth-plugin and run 'gcloud container clusters get-credentials' to switch to its exec plugin."),
        { Name: "azure" } => throw new KubeConfigException(
            $"Context '{context}': the azure auth-provider was removed from kubectl 1.26; run 'kubelogin convert-kubeconfig' to switch to its exec plugin."),
        { Name: var other } => throw new KubeConfigException(
            $"Context '{context}': auth-provider '{other}' is not supported; use an exec credential plugin."),
    };

    /// <summary>The cluster as an exec plugin with <c>provideClusterInfo</c> receives it (client.authentication.k8s.io Cluster).</summary>
    private static string ClusterInfo(ClusterEntry cluster, Uri server, string? ca)
    {
        var info = new System.Text.Json.Nodes.JsonObject { ["server"] = server.ToString().TrimEnd('/') };
        if (!string.IsNullOrEmpty(cluster.TlsServerName))
        {
            info["tls-server-name"] = cluster.TlsServerName;
        }

        if (cluster.InsecureSkipTlsVerify)
        {
            info["insecure-skip-tls-verify"] = true;
        }

        if (ca is not null)
        {
            info["certificate-authority-data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(ca));
        }

        if (!string.IsNullOrEmpty(cluster.ProxyUrl))
        {
            info["proxy-url"] = cluster.ProxyUrl;
        }

        return info.ToJsonString();
    }

    /// <summary>Where a pod's service-account credentials are mounted.</summary>
    public const string ServiceAccountFolder = "/var/run/secrets/kubernetes.io/serviceaccount";

    private static KubeEndpoint? InCluster(string folder, string? @namespace)
    {
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT");
        var tokenFile = Path.Combine(folder, "token");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port) || !File.Exists(tokenFile))
        {
            return null;
        }

        var authority = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        if (!Uri.TryCreate($"https://{authority}:{port}", UriKind.Absolute, out var server))
        {
            throw new KubeConfigException($"In-cluster configuration: KUBERNETES_SERVICE_HOST '{host}' and KUBERNETES_SERVICE_PORT '{port}' do not form a URL.");
        }

        var caFile = Path.Combine(folder, "ca.crt");
        var namespaceFile = Path.Combine(folder, "namespace");
        var podNamespace = File.Exists(namespaceFile) ? File.ReadAllText(namespaceFile).Trim() : "";
        return new KubeEndpoint("in-cluster", server, @namespace ?? (podNamespace.Length > 0 ? podNamespace : "default"),
            File.Exists(caFile) ? File.ReadAllText(caFile) : null, false, null, null, new KubeCredentials(TokenFile: tokenFile));
    }

    private static List<string> Paths(string? kubeconfig, string home)
    {
        if (!string.IsNullOrEmpty(kubeconfig))
        {
            var listed = kubeconfig.Split(':', StringSplitOptions.RemoveEmptyEntries).Where(File.Exists).ToList();
            return listed.Count > 0 ? listed : throw new KubeConfigException($"None of the files in KUBECONFIG ({kubeconfig}) exists.");
        }

        var fallback = Path.Combine(home, ".kube", "config");
        return File.Exists(fallback) ? [fallback] : throw new KubeConfigException($"No kubeconfig: KUBECONFIG is not set and {fallback} does not exist.");
    }

    private static KubeConfigDocument Read(string path)
    {
        return KubeConfigDocument.Parse(File.ReadAllText(path), path);
    }

    private static string Resolve(string path, string folder) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(folder, path));

    private static string? Pem(string? data, string? path, string folder, string field)
    {
        if (!string.IsNullOrEmpty(data))
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException ex)
            {
                throw new KubeConfigException($"{field}-data is not base64.", ex);
            }
        }

        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        var full = Resolve(path, folder);
        return File.Exists(full) ? File.ReadAllText(full) : throw new KubeConfigException($"{field} file {full} does not exist.");
    }
}
