using ClusterContext.Kube;

namespace ClusterContext.Tests.Kube;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ExecCredentialProviderTests : IDisposable
{
    private const string V1 = "client.authentication.k8s.io/v1";
    private readonly string _root = Directory.CreateTempSubdirectory("exec-plugin-").FullName;
    private readonly ManualTime _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Token_is_cached_until_expiry_and_rerun_after_a_401()
    {
        // The plugin counts its runs, checks what kubectl passes it, and answers a token valid until hour n of the day after its n-th run.
        var plugin = Plugin($$$"""
            echo run >> "$COUNT"
            case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) echo "bad exec info: $KUBERNETES_EXEC_INFO" >&2; exit 3;; esac
            n=$(wc -l < "$COUNT")
            echo '{"apiVersion":"{{{V1}}}","kind":"ExecCredential","status":{"token":"token-'$n'-'$1'","expirationTimestamp":"2026-01-01T0'$n':00:00Z"}}'
            """, ["dev"]);
        var provider = new ExecCredentialProvider(plugin, _time);

        var first = await provider.GetAsync(CancellationToken.None);
        var again = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => provider.GetAsync(CancellationToken.None).AsTask()));
        Assert.Equal("token-1-dev", first.Token);
        Assert.All(again, c => Assert.Same(first, c));
        Assert.Equal(1, Runs());

        _time.Now = _time.Now.AddMinutes(61);
        var renewed = await provider.GetAsync(CancellationToken.None);
        Assert.Equal("token-2-dev", renewed.Token);

        provider.Invalidate(first);
        Assert.Same(renewed, await provider.GetAsync(CancellationToken.None));
        provider.Invalidate(renewed);
        Assert.Equal("token-3-dev", (await provider.GetAsync(CancellationToken.None)).Token);
        Assert.Equal(3, Runs());
    }

    [Fact]
    public async Task Client_certificate_without_expiry_is_kept()
    {
        var plugin = Plugin($$$"""
            echo run >> "$COUNT"
            echo '{"apiVersion":"{{{V1}}}","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}'
            """);
        var provider = new ExecCredentialProvider(plugin, _time);

        var credential = await provider.GetAsync(CancellationToken.None);
        _time.Now = _time.Now.AddDays(30);

        Assert.Same(credential, await provider.GetAsync(CancellationToken.None));
        Assert.Equal(("CERT", "KEY"), (credential.ClientCertificate, credential.ClientKey));
        Assert.Null(credential.Token);
        Assert.Equal(1, Runs());
    }

    [Theory]
    [InlineData("echo 'login expired, run: sso login' >&2; exit 2", "exit code 2: login expired, run: sso login")]
    [InlineData("echo not json", "did not answer an ExecCredential")]
    [InlineData("echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"t\"}}'", "answered apiVersion 'client.authentication.k8s.io/v1beta1'")]
    [InlineData("echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{}}'", "neither a token")]
    public async Task Plugin_failures_are_explained(string body, string expected)
    {
        var provider = new ExecCredentialProvider(Plugin(body), _time);

        var ex = await Assert.ThrowsAsync<KubeConfigException>(() => provider.GetAsync(CancellationToken.None).AsTask());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_program_shows_the_install_hint_and_always_mode_is_refused()
    {
        var missing = new ExecPlugin(V1, Path.Combine(_root, "no-such-plugin"), [], new Dictionary<string, string>(), "Never", "Install it with: get-plugin");
        var ex = await Assert.ThrowsAsync<KubeConfigException>(() => new ExecCredentialProvider(missing).GetAsync(CancellationToken.None).AsTask());
        Assert.Contains("Install it with: get-plugin", ex.Message, StringComparison.Ordinal);

        var always = missing with { InteractiveMode = "Always" };
        ex = await Assert.ThrowsAsync<KubeConfigException>(() => new ExecCredentialProvider(always).GetAsync(CancellationToken.None).AsTask());
        Assert.Contains("without a terminal", ex.Message, StringComparison.Ordinal);
    }

    private int Runs() => File.ReadAllLines(Path.Combine(_root, "count")).Length;

    private ExecPlugin Plugin(string body, string[]? arguments = null)
    {
        var path = Path.Combine(_root, $"plugin-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new ExecPlugin(V1, path, arguments ?? [], new Dictionary<string, string> { ["COUNT"] = Path.Combine(_root, "count") }, "IfAvailable");
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
