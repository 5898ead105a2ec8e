using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace ClusterContext.Kube;

/// <summary>The few Kubernetes API calls ClusterContext makes, as JSON; errors are <see cref="KubeApiException"/>.</summary>
internal interface IKubeApi
{
    /// <summary>The endpoint (server, namespace, context name) the client talks to.</summary>
    KubeEndpoint Endpoint { get; }

    /// <summary>Sends a request to <paramref name="path"/> (with query) and returns the JSON body of a successful answer.</summary>
    Task<JsonDocument> SendAsync(HttpMethod method, string path, string? body, string? contentType, CancellationToken cancellationToken);

    /// <summary>
    /// Watches <paramref name="path"/> (a list path with <c>watch=true</c> in its query): each event's type
    /// (<c>ADDED</c>, <c>MODIFIED</c>, <c>DELETED</c>, <c>BOOKMARK</c>) and object, until the server ends the watch.
    /// An <c>ERROR</c> event (e.g. 410 Gone) throws <see cref="KubeApiException"/>.
    /// </summary>
    IAsyncEnumerable<(string Type, JsonElement Object)> WatchAsync(string path, CancellationToken cancellationToken);
}

/// <summary>
/// An HTTPS client for the Kubernetes API configured from a <see cref="KubeEndpoint"/>: the kubeconfig's CA (or
/// none, when told to skip verification), <c>tls-server-name</c>, proxy, and every credential kind: bearer token or
/// token file (re-read when it changes), client certificate, basic auth, exec plugin (re-run once on a 401).
/// </summary>
internal sealed class KubeApiClient : IKubeApi, IDisposable
{
    private readonly HttpClient _http;
    private readonly ExecCredentialProvider? _exec;
    private readonly X509Certificate2Collection _trusted = [];
    private X509Certificate2? _clientCertificate;
    private ExecCredential? _certificateSource;
    private (DateTime Written, string Token)? _tokenFile;
    private bool _handshakeTraced;

    /// <summary>Done once the handler's TLS options are final (the kubeconfig's client certificate prepared): before its first request.</summary>
    private readonly Task _clientCertificateReady = Task.CompletedTask;

    /// <summary>Creates a client for <paramref name="endpoint"/>.</summary>
    public KubeApiClient(KubeEndpoint endpoint, TimeProvider? time = null)
    {
        Endpoint = endpoint;
        var credentials = endpoint.Credentials;
        if (endpoint.CertificateAuthority is { } ca)
        {
            _trusted.ImportFromPem(ca);
        }

        if (credentials.ClientCertificate is { } certificate)
        {
            _clientCertificate = X509Certificate2.CreateFromPem(certificate, credentials.ClientKey
                ?? throw new KubeConfigException($"Context '{endpoint.Context}': client-certificate is set without client-key; add client-key or client-key-data."));
        }

        _exec = credentials.Exec is { } plugin ? new ExecCredentialProvider(plugin, time) : null;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = ConnectTimeout,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = Validate,
                LocalCertificateSelectionCallback = (_, _, _, _, _) => _clientCertificate!,
            },
        };
        // The client's connections are never the app's: inside a hooked process (reconnecting a session) the API
        // server's name and address must not be resolved or reached through the pod.
        handler.ConnectCallback = ConnectAsync;
        if (endpoint.ProxyUrl is { } proxy)
        {
            handler.Proxy = new WebProxy(proxy);
            handler.UseProxy = true;
        }

        if (_clientCertificate is { } fixedCertificate && _exec is null)
        {
            // What the handshake would build when the server asks for the certificate: its chain, for which the
            // machine's root store is read (tens of milliseconds on a first connection). Built here, off the caller's
            // path, while the first request is prepared; then once for every connection, not once each.
            _clientCertificateReady = Task.Run(() =>
            {
                var context = SslStreamCertificateContext.Create(fixedCertificate, additionalCertificates: null, offline: true);
                handler.SslOptions.ClientCertificateContext = context;
                handler.SslOptions.LocalCertificateSelectionCallback = null;
            });
        }

        if (_trusted.Count > 0)
        {
            // The handshake builds the server's chain against the kubeconfig's authority alone: the machine's own root
            // store (hundreds of certificates, read on first use) is never loaded for it.
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(_trusted);
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <inheritdoc />
    public KubeEndpoint Endpoint { get; }

    /// <summary>How long the TCP connection and the TLS handshake to the API server (or its proxy) may take.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a call may wait for the API server's answer (the whole body, or a watch's or stream's headers): a
    /// server that accepts the connection and then says nothing fails the call with a message instead of a hang.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public async Task<JsonDocument> SendAsync(HttpMethod method, string path, string? body, string? contentType, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, path, body, contentType, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<(string Type, JsonElement Object)> WatchAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(HttpMethod.Get, path, null, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                yield break; // the server or a proxy closed the stream: the watch is over, as when it times out
            }

            if (line is null)
            {
                yield break;
            }

            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var type = document.RootElement.GetProperty("type").GetString() ?? "";
            var value = document.RootElement.GetProperty("object").Clone();
            if (type == "ERROR")
            {
                var code = value.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : 500;
                var reason = value.TryGetProperty("reason", out var r) ? r.GetString() : null;
                var message = value.TryGetProperty("message", out var m) ? m.GetString() : null;
                throw new KubeApiException($"GET {path}: the watch ended with {code} {reason}: {message}", code, reason);
            }

            yield return (type, value);
        }
    }

    /// <summary>Sends a request and returns the successful response unread (for watches); failures throw.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, string? body, string? contentType, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, Resolve(path));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("clustercontext", typeof(KubeApiClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json");
            }

            var used = await AuthorizeAsync(request, cancellationToken).ConfigureAwait(false);
            await _clientCertificateReady.ConfigureAwait(false);
            HttpResponseMessage response;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(RequestTimeout);
                try
                {
                    response = await _http.SendAsync(request, completion, deadline.Token).ConfigureAwait(false);
                }
                catch (HttpRequestException ex)
                {
                    throw Unreachable(ex);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw NoAnswer($"answer {method} {path}", ex);
                }
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && used is not null && attempt == 0)
                {
                    _exec!.Invalidate(used);
                    continue;
                }

                throw await FailureAsync(method, path, response, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Opens a WebSocket to <paramref name="path"/> (e.g. a pod's <c>portforward</c>) speaking <paramref name="subprotocol"/>,
    /// over the same TLS, proxy and credentials as every other call.
    /// </summary>
    public async Task<WebSocket> ConnectWebSocketAsync(string path, string subprotocol, CancellationToken cancellationToken)
    {
        var uri = new UriBuilder(Resolve(path)) { Scheme = Endpoint.Server.Scheme == "http" ? "ws" : "wss" }.Uri;
        for (var attempt = 0; ; attempt++)
        {
            var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol(subprotocol);
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
            var (header, used) = await CredentialAsync(cancellationToken).ConfigureAwait(false);
            if (header is not null)
            {
                socket.Options.SetRequestHeader("Authorization", header.ToString());
            }

            await _clientCertificateReady.ConfigureAwait(false);

            try
            {
                using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    deadline.CancelAfter(RequestTimeout);
                    try
                    {
                        await socket.ConnectAsync(uri, _http, deadline.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        socket.Dispose();
                        throw NoAnswer($"open {path} (WebSocket {subprotocol})", ex);
                    }
                }

                if (socket.SubProtocol != subprotocol)
                {
                    socket.Dispose();
                    throw new KubeApiException($"GET {path}: the API server did not agree to {subprotocol} (answered '{socket.SubProtocol}').");
                }

                return socket;
            }
            catch (WebSocketException ex)
            {
                var code = (int)socket.HttpStatusCode;
                socket.Dispose();
                if (code == 401 && used is not null && attempt == 0)
                {
                    _exec!.Invalidate(used);
                    continue;
                }

                if (code == 0)
                {
                    throw Unreachable(new HttpRequestException(ex.Message, ex.InnerException ?? ex));
                }

                throw new KubeApiException($"GET {path} (WebSocket {subprotocol}): {code} {(HttpStatusCode)code}.{Advice(code, "create", path, "")}", code, ((HttpStatusCode)code).ToString(), ex);
            }
        }
    }

    /// <summary>
    /// An API path under the server's URL, keeping any path the server has (a cluster behind a proxy or a management
    /// plane, e.g. <c>https://rancher.example/k8s/clusters/c-1</c>), as kubectl does.
    /// </summary>
    private Uri Resolve(string path) =>
        new(Endpoint.Server.GetLeftPart(UriPartial.Authority) + Endpoint.Server.AbsolutePath.TrimEnd('/') + path);

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        using var bypass = Hooks.HookBypass.Enter();
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _clientCertificate?.Dispose();
        foreach (var certificate in _trusted)
        {
            certificate.Dispose();
        }
    }

    private async ValueTask<ExecCredential?> AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (header, used) = await CredentialAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = header;
        return used;
    }

    private async ValueTask<(AuthenticationHeaderValue? Header, ExecCredential? Used)> CredentialAsync(CancellationToken cancellationToken)
    {
        var credentials = Endpoint.Credentials;
        if (_exec is not null)
        {
            var credential = await _exec.GetAsync(cancellationToken).ConfigureAwait(false);
            if (credential.Token is { } execToken)
            {
                return (new AuthenticationHeaderValue("Bearer", execToken), credential);
            }

            if (!ReferenceEquals(credential, _certificateSource))
            {
                // A certificate from the plugin is offered on new connections; pooled ones keep theirs.
                _clientCertificate = X509Certificate2.CreateFromPem(credential.ClientCertificate, credential.ClientKey);
                _certificateSource = credential;
            }

            return (null, credential);
        }

        if ((credentials.Token ?? ReadTokenFile(credentials.TokenFile)) is { } token)
        {
            return (new AuthenticationHeaderValue("Bearer", token), null);
        }

        if (credentials.Username is not null || credentials.Password is not null)
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}"));
            return (new AuthenticationHeaderValue("Basic", basic), null);
        }

        return (null, null);
    }

    private string? ReadTokenFile(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            var written = File.GetLastWriteTimeUtc(path);
            if (_tokenFile is not { } cached || cached.Written != written)
            {
                _tokenFile = cached = (written, File.ReadAllText(path).Trim());
            }

            return cached.Token;
        }
        catch (IOException ex)
        {
            throw new KubeConfigException($"Context '{Endpoint.Context}': the token file {path} cannot be read: {ex.Message}", ex);
        }
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!_handshakeTraced)
        {
            _handshakeTraced = true;
            Diagnostics.StartupTrace.Mark("first TLS handshake with the API server: its certificate arrived");
        }

        if (Endpoint.InsecureSkipTlsVerify)
        {
            return true;
        }

        if (certificate is null)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        var nameOk = Endpoint.TlsServerName is { } serverName
            ? leaf.MatchesHostname(serverName)
            : (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
        if (!nameOk)
        {
            return false;
        }

        if (_trusted.Count == 0)
        {
            return (errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(leaf);
    }

    /// <summary>The connect timeout (TCP and TLS) or a call's own deadline passed: the server took the connection, or not, and said nothing.</summary>
    private KubeApiException NoAnswer(string what, OperationCanceledException ex)
    {
        var within = ex.InnerException is TimeoutException ? $"take the connection (TCP and TLS) within {ConnectTimeout.TotalSeconds:0} s" : $"{what} within {RequestTimeout.TotalSeconds:0} s";
        return new KubeApiException($"The API server {Endpoint.Server} (context '{Endpoint.Context}') did not {within}. Check that the cluster is up and reachable from here (VPN, proxy-url): kubectl --context {Endpoint.Context} get --raw /version", inner: ex);
    }

    private KubeApiException Unreachable(HttpRequestException ex)
    {
        var where = $"the API server {Endpoint.Server} (context '{Endpoint.Context}')";
        return ex.InnerException is AuthenticationException tls
            ? new KubeApiException($"TLS with {where} failed: {tls.Message} Check certificate-authority and tls-server-name in the kubeconfig.", inner: ex)
            : new KubeApiException($"Cannot reach {where}: {ex.Message} Check that the cluster is running and reachable from here (VPN, proxy-url).", inner: ex);
    }

    private async Task<KubeApiException> FailureAsync(HttpMethod method, string path, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var code = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? reason = null;
        var message = text.Length > 300 ? text[..300] + "…" : text;
        try
        {
            using var status = JsonDocument.Parse(text);
            if (status.RootElement.TryGetProperty("kind", out var kind) && kind.GetString() == "Status")
            {
                reason = status.RootElement.TryGetProperty("reason", out var r) ? r.GetString() : null;
                message = status.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? message : message;
            }
        }
        catch (JsonException)
        {
            // Not a Status object (a proxy or load balancer answered): keep the raw text.
        }

        var verb = method == HttpMethod.Get ? ReadVerb(path) : method == HttpMethod.Post ? "create" : method.Method.ToLowerInvariant();
        return new KubeApiException($"{method} {path}: {code} {reason ?? response.ReasonPhrase}: {message}.{Advice(code, verb, path, message)}", code, reason);
    }

    /// <summary>What to do about a 401 or 403 on <paramref name="path"/>; empty for other codes.</summary>
    private string Advice(int code, string verb, string path, string message) => code switch
    {
        // An admission refusal is a 403 too, but no RBAC grant changes it; the caller explains it.
        403 when PodSecurityRefusal.Level(message) is not null => "",
        401 => $" The credentials of context '{Endpoint.Context}' were rejected: log in again or refresh the token.",
        403 => $" The user of context '{Endpoint.Context}' may not {verb} {Target(path).Resource}; ask a cluster admin to grant that RBAC permission.",
        _ => "",
    };

    /// <summary>The RBAC verb of a GET: <c>watch</c>, <c>list</c> (a collection) or <c>get</c>.</summary>
    private static string ReadVerb(string path) =>
        path.Contains("watch=true", StringComparison.Ordinal) ? "watch" : Target(path).Collection ? "list" : "get";

    /// <summary>The RBAC resource a path names (<c>pods</c>, or <c>pods/portforward</c> for a subresource), and whether it names the collection.</summary>
    private static (string Resource, bool Collection) Target(string path)
    {
        var segments = path.Split('?')[0].Trim('/').Split('/');
        var index = Array.IndexOf(segments, "namespaces");
        return index < 0 || segments.Length < index + 3 ? (path, false)
            : segments.Length > index + 4 ? ($"{segments[index + 2]}/{segments[index + 4]}", false)
            : (segments[index + 2], segments.Length == index + 3);
    }
}
