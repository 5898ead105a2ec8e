using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ClusterContext.Kube;

/// <summary>The credential an exec plugin returned: a bearer token or a client certificate, and until when it holds.</summary>
/// <param name="Token">Bearer token, if the plugin gave one.</param>
/// <param name="ClientCertificate">PEM client certificate, if the plugin gave one.</param>
/// <param name="ClientKey">PEM key of that certificate.</param>
/// <param name="Expires">When to run the plugin again; null when the credential holds until the server rejects it.</param>
internal sealed record ExecCredential(string? Token, string? ClientCertificate, string? ClientKey, DateTimeOffset? Expires);

/// <summary>
/// Runs an exec credential plugin as kubectl does (<c>KUBERNETES_EXEC_INFO</c> in its environment, an ExecCredential
/// on its stdout) and keeps the result until its <c>expirationTimestamp</c> or until <see cref="Invalidate"/> is
/// called after a 401; concurrent callers share one run.
/// </summary>
internal sealed class ExecCredentialProvider
{
    private readonly ExecPlugin _plugin;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private ExecCredential? _cached;
    private Task<ExecCredential>? _run;

    /// <summary>Variables a plugin gets as the machine had them, where this process changed its own (the session host's root store, <see cref="Session.Host.SessionHostProgram"/>); null removes.</summary>
    public static IReadOnlyDictionary<string, string?> MachineEnvironment { get; set; } = new Dictionary<string, string?>();

    /// <summary>Creates a provider for <paramref name="plugin"/>.</summary>
    public ExecCredentialProvider(ExecPlugin plugin, TimeProvider? time = null)
    {
        _plugin = plugin;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How long one run of the plugin may take before it is stopped.</summary>
    public static TimeSpan RunTimeout { get; } = TimeSpan.FromMinutes(2);

    /// <summary>The current credential, running the plugin when none is cached or the cached one has expired.</summary>
    public async ValueTask<ExecCredential> GetAsync(CancellationToken cancellationToken)
    {
        if (Valid(Volatile.Read(ref _cached)) is { } fresh)
        {
            return fresh;
        }

        Task<ExecCredential> run;
        lock (_lock)
        {
            if (Valid(_cached) is { } other)
            {
                return other;
            }

            // One run at a time, shared by every caller; a caller that gives up does not cancel it for the others.
            _run ??= Task.Run(RunAndKeepAsync); // on another thread, so its cleanup waits for this lock
            run = _run;
        }

        return await run.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops <paramref name="rejected"/> (the server answered 401 to it) so the next call runs the plugin.</summary>
    public void Invalidate(ExecCredential rejected) => Interlocked.CompareExchange(ref _cached, null, rejected);

    private async Task<ExecCredential> RunAndKeepAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(RunTimeout);
            var credential = await RunAsync(timeout.Token).ConfigureAwait(false);
            Volatile.Write(ref _cached, credential);
            return credential;
        }
        catch (OperationCanceledException ex)
        {
            throw new KubeConfigException($"The exec plugin '{_plugin.Command}' did not answer within {RunTimeout.TotalSeconds:0} s.", ex);
        }
        finally
        {
            lock (_lock)
            {
                _run = null;
            }
        }
    }

    private ExecCredential? Valid(ExecCredential? credential) =>
        credential is not null && (credential.Expires is not { } expires || expires > _time.GetUtcNow()) ? credential : null;

    private async Task<ExecCredential> RunAsync(CancellationToken cancellationToken)
    {
        if (_plugin.InteractiveMode == "Always")
        {
            throw new KubeConfigException($"The exec plugin '{_plugin.Command}' has interactiveMode Always, but ClusterContext runs it without a terminal; set interactiveMode to IfAvailable or Never, or log in with the plugin first.");
        }

        var start = new ProcessStartInfo(_plugin.Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in _plugin.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in MachineEnvironment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        foreach (var (name, value) in _plugin.Environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["KUBERNETES_EXEC_INFO"] = "{\"apiVersion\":\"" + _plugin.ApiVersion + "\",\"kind\":\"ExecCredential\",\"spec\":{" +
            (_plugin.ClusterInfo is { } cluster ? "\"cluster\":" + cluster + "," : "") + "\"interactive\":false}}";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new KubeConfigException($"The exec plugin '{_plugin.Command}' did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new KubeConfigException($"The exec plugin '{_plugin.Command}' cannot be run: {ex.Message}.{(_plugin.InstallHint is null ? "" : " " + _plugin.InstallHint)}", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var stdout = await output.ConfigureAwait(false);
            var stderr = (await error.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0)
            {
                throw new KubeConfigException($"The exec plugin '{_plugin.Command}' failed with exit code {process.ExitCode}{(stderr.Length == 0 ? "." : ": " + stderr)}");
            }

            return Parse(stdout);
        }
    }

    private ExecCredential Parse(string stdout)
    {
        try
        {
            using var document = JsonDocument.Parse(stdout);
            var root = document.RootElement;
            var version = root.TryGetProperty("apiVersion", out var v) ? v.GetString() : null;
            if (version != _plugin.ApiVersion)
            {
                throw new KubeConfigException($"The exec plugin '{_plugin.Command}' answered apiVersion '{version}', but the kubeconfig asks for '{_plugin.ApiVersion}'.");
            }

            if (!root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Object)
            {
                throw new KubeConfigException($"The exec plugin '{_plugin.Command}' answered an ExecCredential without a status.");
            }

            var token = Text(status, "token");
            var certificate = Text(status, "clientCertificateData");
            var key = Text(status, "clientKeyData");
            if (token is null && (certificate is null || key is null))
            {
                throw new KubeConfigException($"The exec plugin '{_plugin.Command}' answered neither a token nor a client certificate and key.");
            }

            DateTimeOffset? expires = Text(status, "expirationTimestamp") is { } timestamp
                ? DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                : null;
            return new ExecCredential(token, certificate, key, expires);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            var shown = stdout.Length > 200 ? stdout[..200] + "…" : stdout;
            throw new KubeConfigException($"The exec plugin '{_plugin.Command}' did not answer an ExecCredential: {ex.Message} (stdout: {shown.Trim()})", ex);
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
