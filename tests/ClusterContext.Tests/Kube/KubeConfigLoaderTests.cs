using System.Text;
using ClusterContext.Kube;

namespace ClusterContext.Tests.Kube;

public sealed class KubeConfigLoaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Current_context_resolves_cluster_user_and_namespace()
    {
        var path = Write("config", """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: c1
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority-data: {CA}
                tls-server-name: kubernetes
            users:
            - name: u1
              user:
                token: abc
            contexts:
            - name: dev
              context: { cluster: c1, user: u1, namespace: shop }
            """.Replace("{CA}", Base64("CA PEM"), StringComparison.Ordinal));

        var endpoint = KubeConfigLoader.Load(kubeconfig: path);

        Assert.Equal("dev", endpoint.Context);
        Assert.Equal(new Uri("https://127.0.0.1:6443"), endpoint.Server);
        Assert.Equal("shop", endpoint.Namespace);
        Assert.Equal("CA PEM", endpoint.CertificateAuthority);
        Assert.Equal("kubernetes", endpoint.TlsServerName);
        Assert.Equal("abc", endpoint.Credentials.Token);
        Assert.Equal("other", KubeConfigLoader.Load(kubeconfig: path, @namespace: "other").Namespace);
    }

    [Fact]
    public void Files_merge_first_definition_wins_and_relative_paths_follow_their_file()
    {
        Directory.CreateDirectory(Path.Combine(_root, "a", "certs"));
        Directory.CreateDirectory(Path.Combine(_root, "b"));
        File.WriteAllText(Path.Combine(_root, "a", "certs", "ca.pem"), "CA FROM A");
        File.WriteAllText(Path.Combine(_root, "b", "token"), "tok");
        var first = Write("a/config", """
            current-context: first
            clusters:
            - name: shared
              cluster: { server: "https://10.0.0.1", certificate-authority: certs/ca.pem }
            contexts:
            - name: first
              context: { cluster: shared, user: fromb }
            """);
        var second = Write("b/config", """
            current-context: second
            clusters:
            - name: shared
              cluster: { server: "https://10.9.9.9" }
            users:
            - name: fromb
              user: { tokenFile: token }
            contexts:
            - name: second
              context: { cluster: shared }
            """);

        var endpoint = KubeConfigLoader.Load(kubeconfig: $"{first}:{_root}/missing:{second}");

        Assert.Equal("first", endpoint.Context);
        Assert.Equal("default", endpoint.Namespace);
        Assert.Equal(new Uri("https://10.0.0.1"), endpoint.Server);
        Assert.Equal("CA FROM A", endpoint.CertificateAuthority);
        Assert.Equal(Path.Combine(_root, "b", "token"), endpoint.Credentials.TokenFile);
        Assert.Equal("second", KubeConfigLoader.Load("second", kubeconfig: $"{first}:{second}").Context);
    }

    [Fact]
    public void Home_config_is_the_fallback()
    {
        Write(".kube/config", """
            current-context: home
            clusters: [ { name: c, cluster: { server: "https://127.0.0.1:1" } } ]
            contexts: [ { name: home, context: { cluster: c } } ]
            """);

        Assert.Equal("home", KubeConfigLoader.Load(kubeconfig: "", home: _root).Context);
    }

    [Fact]
    public void In_a_pod_without_kubeconfig_the_service_account_is_used()
    {
        var account = Path.Combine(_root, "serviceaccount");
        Directory.CreateDirectory(account);
        File.WriteAllText(Path.Combine(account, "token"), "sa-token");
        File.WriteAllText(Path.Combine(account, "ca.crt"), "CLUSTER CA");
        File.WriteAllText(Path.Combine(account, "namespace"), "shop\n");
        var saved = (Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"), Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT"));
        Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", "fd00::1");
        Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_PORT", "443");
        try
        {
            var endpoint = KubeConfigLoader.Load(kubeconfig: "", home: Path.Combine(_root, "nohome"), serviceAccountFolder: account);

            Assert.Equal(new Uri("https://[fd00::1]:443"), endpoint.Server);
            Assert.Equal("shop", endpoint.Namespace);
            Assert.Equal("CLUSTER CA", endpoint.CertificateAuthority);
            Assert.Equal(Path.Combine(account, "token"), endpoint.Credentials.TokenFile);
        }
        finally
        {
            Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_HOST", saved.Item1);
            Environment.SetEnvironmentVariable("KUBERNETES_SERVICE_PORT", saved.Item2);
        }

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(kubeconfig: "", home: Path.Combine(_root, "nohome"), serviceAccountFolder: account));
        Assert.Contains("No kubeconfig", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_context_lists_the_known_ones()
    {
        var path = Write("config", """
            clusters: [ { name: c, cluster: { server: "https://127.0.0.1:1" } } ]
            contexts: [ { name: b, context: { cluster: c } }, { name: a, context: { cluster: c } } ]
            """);

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load("prod", kubeconfig: path));
        Assert.Contains("'prod'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("known contexts: a, b", ex.Message, StringComparison.Ordinal);
        Assert.Contains("current-context", Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(kubeconfig: path)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cluster: { server: \"https://h\", certificate-authority-data: Q0E=, insecure-skip-tls-verify: true }", "user: { token: t }", "insecure-skip-tls-verify")]
    [InlineData("cluster: { server: \"https://h\" }", "user: { token: t, username: me, password: pw }", "token and a username")]
    [InlineData("cluster: { server: \"https://h\" }", "user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: get-token } }", "interactiveMode")]
    [InlineData("cluster: { server: \"https://h\" }", "user: { exec: { apiVersion: client.authentication.k8s.io/v1alpha1, command: x } }", "not supported")]
    [InlineData("cluster: { server: \"https://h\", certificate-authority: nope.pem }", "user: {}", "does not exist")]
    [InlineData("cluster: { server: \"not a url\" }", "user: {}", "is not a URL")]
    [InlineData("cluster: { server: \"https://h\" }", "user: { auth-provider: { name: gcp, config: { access-token: x } } }", "install gke-gcloud-auth-plugin")]
    [InlineData("cluster: { server: \"https://h\" }", "user: { auth-provider: { name: azure } }", "kubelogin convert-kubeconfig")]
    [InlineData("cluster: { server: \"https://h\" }", "user: { auth-provider: { name: oidc, config: { idp-issuer-url: https://idp } } }", "no id-token yet")]
    public void Contradictory_or_broken_entries_fail_with_the_reason(string cluster, string user, string expected)
    {
        var path = Write("config", $$"""
            current-context: x
            clusters: [ { name: c, {{cluster}} } ]
            users: [ { name: u, {{user}} } ]
            contexts: [ { name: x, context: { cluster: c, user: u } } ]
            """);

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(kubeconfig: path));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Exec_plugin_is_read_with_relative_command_resolved()
    {
        var path = Write("config", """
            current-context: x
            clusters: [ { name: c, cluster: { server: "https://h" } } ]
            users:
            - name: u
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./bin/cred
                  args: [ "--cluster", "dev" ]
                  env: [ { name: REGION, value: eu } ]
                  interactiveMode: Never
            contexts: [ { name: x, context: { cluster: c, user: u } } ]
            """);

        var exec = KubeConfigLoader.Load(kubeconfig: path).Credentials.Exec!;
        Assert.Equal(Path.Combine(_root, "bin", "cred"), exec.Command);
        Assert.Equal(["--cluster", "dev"], exec.Arguments);
        Assert.Equal("eu", exec.Environment["REGION"]);
        Assert.Equal("Never", exec.InteractiveMode);
    }

    [Fact]
    public void An_oidc_auth_provider_id_token_is_the_bearer_token()
    {
        var path = Write("config", """
            current-context: x
            clusters: [ { name: c, cluster: { server: "https://h" } } ]
            users: [ { name: u, user: { auth-provider: { name: oidc, config: { id-token: eyJ.oidc.token, refresh-token: r, idp-issuer-url: "https://idp" } } } } ]
            contexts: [ { name: x, context: { cluster: c, user: u } } ]
            """);

        Assert.Equal("eyJ.oidc.token", KubeConfigLoader.Load(kubeconfig: path).Credentials.Token);
    }

    [Fact]
    public void Malformed_yaml_names_the_file_and_line()
    {
        var path = Write("config", "clusters:\n  - name: [unclosed\n");

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(kubeconfig: path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("line", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("clusters: just-a-name\n", "line 1: clusters should be a list")]
    [InlineData("current-context: c\nclusters:\n- name: c\n  cluster:\n    server: [a, b]\n", "line 5: server should be a string")]
    [InlineData("clusters:\n- name: c\n  cluster: { server: https://h, insecure-skip-tls-verify: maybe }\n", "line 3: insecure-skip-tls-verify should be true or false")]
    public void A_wrong_shape_names_the_key_and_line(string text, string expected)
    {
        var path = Write("config", text);

        var ex = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(kubeconfig: path));
        Assert.Contains($"{path} is not a valid kubeconfig at {expected}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_nulls_empty_sections_and_unknown_keys_are_taken_as_kubectl_takes_them()
    {
        var path = Write("config", """
            apiVersion: v1
            kind: Config
            preferences: {}
            current-context: c
            clusters:
            - name: c
              cluster:
                server: https://h:6443
                insecure-skip-tls-verify: True
                proxy-url: ~
                extensions: [ { name: x, extension: { a: 1 } } ]
            users:
            - name: u
              user:
                token: "null"
            contexts:
            - name: c
              context: { cluster: c, user: u, namespace: null }
            """);

        var endpoint = KubeConfigLoader.Load(kubeconfig: path);

        Assert.True(endpoint.InsecureSkipTlsVerify);
        Assert.Null(endpoint.ProxyUrl);
        Assert.Equal("null", endpoint.Credentials.Token); // quoted: a string
        Assert.Equal("default", endpoint.Namespace);
    }

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
