using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ClusterContext.Kube;

// The kubeconfig file format (v1 Config), as far as this client reads it. Read from YAML's node tree rather than by
// the reflection-based deserializer: in a freshly started process (the startup hook's case) that halves the time to
// read a kubeconfig (about 45 ms instead of 100 ms of first-use cost).
internal sealed class KubeConfigDocument
{
    public string? CurrentContext { get; init; }

    public List<Named<ClusterEntry>> Clusters { get; init; } = [];

    public List<Named<UserEntry>> Users { get; init; } = [];

    public List<Named<ContextEntry>> Contexts { get; init; } = [];

    /// <summary>Parses <paramref name="text"/>; unknown keys are ignored, a wrong shape throws <see cref="KubeConfigException"/> naming the line.</summary>
    public static KubeConfigDocument Parse(string text, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new KubeConfigException($"{path} is not a valid kubeconfig at line {ex.Start.Line}: {ex.Message}", ex);
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            return new KubeConfigDocument();
        }

        var reader = new Reader(path);
        var root = reader.Map(stream.Documents[0].RootNode, "the document");
        return new KubeConfigDocument
        {
            CurrentContext = reader.String(root, "current-context"),
            Clusters = reader.Named(root, "clusters", "cluster", map => new ClusterEntry
            {
                Server = reader.String(map, "server"),
                CertificateAuthority = reader.String(map, "certificate-authority"),
                CertificateAuthorityData = reader.String(map, "certificate-authority-data"),
                InsecureSkipTlsVerify = reader.Boolean(map, "insecure-skip-tls-verify"),
                TlsServerName = reader.String(map, "tls-server-name"),
                ProxyUrl = reader.String(map, "proxy-url"),
            }),
            Users = reader.Named(root, "users", "user", map => new UserEntry
            {
                Token = reader.String(map, "token"),
                TokenFile = reader.String(map, "tokenFile"),
                ClientCertificate = reader.String(map, "client-certificate"),
                ClientCertificateData = reader.String(map, "client-certificate-data"),
                ClientKey = reader.String(map, "client-key"),
                ClientKeyData = reader.String(map, "client-key-data"),
                Username = reader.String(map, "username"),
                Password = reader.String(map, "password"),
                Exec = reader.Child(map, "exec") is { } exec ? new ExecEntry
                {
                    ApiVersion = reader.String(exec, "apiVersion"),
                    Command = reader.String(exec, "command"),
                    Args = reader.Sequence(exec, "args").Select(n => reader.Scalar(n, "args") ?? "").ToList(),
                    Env = reader.Sequence(exec, "env").Select(n => reader.Map(n, "env")).Select(e => new ExecEnvironmentVariable
                    {
                        Name = reader.String(e, "name"),
                        Value = reader.String(e, "value"),
                    }).ToList(),
                    InteractiveMode = reader.String(exec, "interactiveMode"),
                    ProvideClusterInfo = reader.Boolean(exec, "provideClusterInfo"),
                    InstallHint = reader.String(exec, "installHint"),
                } : null,
                AuthProvider = reader.Child(map, "auth-provider") is { } provider ? new AuthProviderEntry
                {
                    Name = reader.String(provider, "name"),
                    IdToken = reader.Child(provider, "config") is { } config ? reader.String(config, "id-token") : null,
                } : null,
            }),
            Contexts = reader.Named(root, "contexts", "context", map => new ContextEntry
            {
                Cluster = reader.String(map, "cluster"),
                User = reader.String(map, "user"),
                Namespace = reader.String(map, "namespace"),
            }),
        };
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private sealed class Reader(string path)
    {
        public YamlMappingNode Map(YamlNode node, string what) =>
            node as YamlMappingNode ?? throw Wrong(node, what, "a mapping");

        public YamlMappingNode? Child(YamlMappingNode map, string key) =>
            Find(map, key) is { } node && !IsNull(node) ? Map(node, key) : null;

        public string? String(YamlMappingNode map, string key) => Find(map, key) is { } node ? Scalar(node, key) : null;

        public string? Scalar(YamlNode node, string what) =>
            IsNull(node) ? null : node is YamlScalarNode scalar ? scalar.Value : throw Wrong(node, what, "a string");

        public bool Boolean(YamlMappingNode map, string key) => String(map, key)?.ToUpperInvariant() switch
        {
            null or "FALSE" or "NO" or "OFF" => false,
            "TRUE" or "YES" or "ON" => true,
            _ => throw Wrong(Find(map, key)!, key, "true or false"),
        };

        public IEnumerable<YamlNode> Sequence(YamlMappingNode map, string key) => Find(map, key) switch
        {
            null => [],
            var node when IsNull(node) => [],
            YamlSequenceNode sequence => sequence.Children,
            var node => throw Wrong(node, key, "a list"),
        };

        /// <summary>A list of <c>{ name, &lt;kind&gt;: { ... } }</c> entries.</summary>
        public List<Named<T>> Named<T>(YamlMappingNode map, string key, string kind, Func<YamlMappingNode, T> read)
            where T : class =>
            [.. Sequence(map, key).Select(n => Map(n, key)).Select(entry => new Named<T>
            {
                Name = String(entry, "name"),
                Value = Child(entry, kind) is { } body ? read(body) : null,
            })];

        private static YamlNode? Find(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        private KubeConfigException Wrong(YamlNode node, string what, string expected) =>
            new($"{path} is not a valid kubeconfig at line {node.Start.Line}: {what} should be {expected}.");
    }
}

internal sealed class Named<T>
    where T : class
{
    public string? Name { get; init; }

    public T? Value { get; init; }
}

internal sealed class ClusterEntry
{
    public string? Server { get; init; }

    public string? CertificateAuthority { get; init; }

    public string? CertificateAuthorityData { get; init; }

    public bool InsecureSkipTlsVerify { get; init; }

    public string? TlsServerName { get; init; }

    public string? ProxyUrl { get; init; }
}

internal sealed class UserEntry
{
    public string? Token { get; init; }

    public string? TokenFile { get; init; }

    public string? ClientCertificate { get; init; }

    public string? ClientCertificateData { get; init; }

    public string? ClientKey { get; init; }

    public string? ClientKeyData { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    public ExecEntry? Exec { get; init; }

    public AuthProviderEntry? AuthProvider { get; init; }
}

/// <summary>The legacy <c>auth-provider</c> block: kubectl still has <c>oidc</c>; <c>gcp</c> and <c>azure</c> are gone since 1.26.</summary>
internal sealed class AuthProviderEntry
{
    public string? Name { get; init; }

    public string? IdToken { get; init; }
}

internal sealed class ExecEntry
{
    public string? ApiVersion { get; init; }

    public string? Command { get; init; }

    public List<string> Args { get; init; } = [];

    public List<ExecEnvironmentVariable> Env { get; init; } = [];

    public string? InteractiveMode { get; init; }

    public bool ProvideClusterInfo { get; init; }

    public string? InstallHint { get; init; }
}

internal sealed class ExecEnvironmentVariable
{
    public string? Name { get; init; }

    public string? Value { get; init; }
}

internal sealed class ContextEntry
{
    public string? Cluster { get; init; }

    public string? User { get; init; }

    public string? Namespace { get; init; }
}
