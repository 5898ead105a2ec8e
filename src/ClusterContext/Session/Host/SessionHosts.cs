using System.Collections;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ClusterContext.Session.Host;

/// <summary>One session host as its lock file describes it.</summary>
/// <param name="Name">The session's name (given, or the digest of its developer context).</param>
/// <param name="Pid">The host's process id.</param>
/// <param name="Target">What it runs in.</param>
/// <param name="Namespace">The namespace given, if any.</param>
/// <param name="Context">The kubeconfig context given, if any.</param>
/// <param name="LingerSeconds">How long it stays after its last process; null: until stopped.</param>
/// <param name="Started">When it started.</param>
/// <param name="Socket">Where processes join it.</param>
internal sealed record SessionHostEntry(string Name, int Pid, string? Target, string? Namespace, string? Context, double? LingerSeconds, DateTimeOffset Started, string Socket);

/// <summary>The user's session hosts: start one (named, for an IDE's launch profile to join), list them, stop one.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class SessionHosts
{
    /// <summary>
    /// Starts the session host of <paramref name="options"/> (its <c>session.name</c>, else its developer context's)
    /// unless it runs, and waits until its agent runs in the pod; progress goes to <paramref name="logger"/>.
    /// </summary>
    public static async Task<SessionHostEntry> StartAsync(ClusterContextOptions options, IDictionary environment, ILogger logger, CancellationToken cancellationToken)
    {
        using var client = SessionHostClient.For(options, environment, logger)
            ?? throw new ConfigurationException("A session host needs a target (-t deployment/NAME), Linux, and session.shared left on.");
        await client.JoinAsync(cancellationToken).ConfigureAwait(false);
        return List(environment).FirstOrDefault(e => e.Name == client.Files.Name)
            ?? throw new IOException($"The session host of {options.Target} left as soon as it started; see {client.Files.Log}.");
    }

    /// <summary>The running hosts in the user's session folder.</summary>
    public static IReadOnlyList<SessionHostEntry> List(IDictionary environment)
    {
        var folder = SessionHostPaths.Folder(environment);
        var entries = new List<SessionHostEntry>();
        foreach (var lockFile in Directory.EnumerateFiles(folder, "*.lock"))
        {
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllText(lockFile));
                var root = document.RootElement;
                var pid = root.GetProperty("pid").GetInt32();

                // A host that died (a SIGKILL) leaves its lock file: it is not running, and the next start takes the lock over.
                if (Hooks.FileSystem.CacheFolder.StartTime(pid) != root.String("startTime"))
                {
                    continue;
                }

                var name = Path.GetFileNameWithoutExtension(lockFile);
                entries.Add(new SessionHostEntry(name, pid, root.String("target"), root.String("namespace"), root.String("context"),
                    root.TryGetProperty("linger", out var linger) && linger.ValueKind == JsonValueKind.Number ? linger.GetDouble() : null,
                    DateTimeOffset.Parse(root.String("started") ?? "", CultureInfo.InvariantCulture), SessionHostPaths.For(folder, name).Socket));
            }
            catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
            {
                // Being written or removed right now.
            }
        }

        return entries;
    }

    /// <summary>Stops the host named <paramref name="name"/> (its processes lose their session) and waits until it is gone; false when none runs.</summary>
    public static async Task<bool> StopAsync(string name, IDictionary environment, CancellationToken cancellationToken)
    {
        if (List(environment).FirstOrDefault(e => e.Name == name) is not { } entry)
        {
            return false;
        }

        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(entry.Socket), cancellationToken).ConfigureAwait(false);
                await HostLines.WriteAsync(socket, w => w.WriteString("kind", "stop"), cancellationToken).ConfigureAwait(false);
                using var reply = await HostLines.ReadAsync(socket, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // Leaving already.
            }
        }

        while (List(environment).Any(e => e.Name == name))
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
