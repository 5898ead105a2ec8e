using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ClusterContext.Testing.Kube.Streaming.Spdy;

/// <summary>
/// Where a SPDY connection comes from: an HTTP/1.1 upgrade to <c>SPDY/3.1</c> (kubectl up to 1.29 for port-forward,
/// 1.30 for exec, and any client that falls back), with the stream protocol negotiated in
/// <c>X-Stream-Protocol-Version</c> as Kubernetes' <c>httpstream.Handshake</c> does (the client's order wins); or
/// a WebSocket whose subprotocol is <c>SPDY/3.1+PROTOCOL</c>, carrying SPDY's bytes in binary messages (kubectl
/// 1.31+ port-forward, client-go's tunnelling connection).
/// </summary>
internal static class SpdyUpgrade
{
    public const string Spdy = "SPDY/3.1";
    public const string TunnelPrefix = "SPDY/3.1+";
    private const string ProtocolHeader = "X-Stream-Protocol-Version";

    public static bool IsRequested(HttpContext context) =>
        context.Request.Headers.Upgrade.Any(u => string.Equals(u?.Trim(), Spdy, StringComparison.OrdinalIgnoreCase));

    /// <summary>The tunnelled protocol a WebSocket asks for among <paramref name="protocols"/>, or null.</summary>
    public static string? TunnelRequested(HttpContext context, params string[] protocols) =>
        context.WebSockets.IsWebSocketRequest
            ? context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p.StartsWith(TunnelPrefix, StringComparison.Ordinal) && protocols.Contains(p[TunnelPrefix.Length..]))
            : null;

    /// <summary>Accepts the WebSocket tunnel for <paramref name="subprotocol"/>; SPDY's bytes flow through the returned stream.</summary>
    public static async Task<Stream> AcceptTunnelAsync(HttpContext context, string subprotocol)
    {
        // .NET's WebSocket refuses a subprotocol with '/' (not an RFC 6455 token), so the header is answered here and
        // the socket accepted without one; Kubernetes' servers answer it as asked.
        context.Response.Headers.SecWebSocketProtocol = subprotocol;
        return new WebSocketByteStream(await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false));
    }

    /// <summary>
    /// Negotiates the stream protocol and switches protocols; null after answering an error (no common protocol, or a
    /// request that cannot be upgraded). <paramref name="negotiated"/> is the protocol chosen ("" when the client named none).
    /// </summary>
    public static async Task<(Stream? Transport, string Negotiated)> AcceptUpgradeAsync(HttpContext context, params string[] serverProtocols)
    {
        var offered = context.Request.Headers[ProtocolHeader].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        var negotiated = "";
        if (offered.Count > 0)
        {
            negotiated = offered.FirstOrDefault(serverProtocols.Contains) ?? "";
            if (negotiated.Length == 0)
            {
                context.Response.StatusCode = 403;
                await context.Response.WriteAsync(
                    $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(' ', offered)}], server accepts [{string.Join(' ', serverProtocols)}]").ConfigureAwait(false);
                return (null, "");
            }
        }

        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is null || !upgrade.IsUpgradableRequest)
        {
            await KubeApiServer.WriteStatusAsync(context, 400, "BadRequest", "unable to upgrade: missing upgrade headers in request").ConfigureAwait(false);
            return (null, "");
        }

        if (negotiated.Length > 0)
        {
            context.Response.Headers[ProtocolHeader] = negotiated;
        }

        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = Spdy;
        return (await upgrade.UpgradeAsync().ConfigureAwait(false), negotiated);
    }

    /// <summary>
    /// Accepts a SPDY connection for <paramref name="serverProtocols"/> either way it can come, runs it, hands it to
    /// <paramref name="serve"/> with the negotiated protocol, and when that returns says goodbye and closes in order.
    /// </summary>
    public static async Task ServeAsync(HttpContext context, string[] serverProtocols, Func<SpdyConnection, string, Task> serve)
    {
        Stream? transport;
        string negotiated;
        if (TunnelRequested(context, serverProtocols) is { } subprotocol)
        {
            transport = await AcceptTunnelAsync(context, subprotocol).ConfigureAwait(false);
            negotiated = subprotocol[TunnelPrefix.Length..];
        }
        else
        {
            (transport, negotiated) = await AcceptUpgradeAsync(context, serverProtocols).ConfigureAwait(false);
            if (transport is null)
            {
                return;
            }
        }

        await using (transport.ConfigureAwait(false))
        {
            var connection = new SpdyConnection(transport);
            var running = connection.RunAsync();
            try
            {
                await serve(connection, negotiated).ConfigureAwait(false);
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                if (transport is WebSocketByteStream tunnel)
                {
                    await tunnel.CloseOutputAsync().ConfigureAwait(false);
                }
                else
                {
                    await transport.DisposeAsync().ConfigureAwait(false); // ends the HTTP connection, and with it the reader
                }

                await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            }
        }
    }
}
