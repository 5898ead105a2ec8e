using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ClusterContext.Configuration;

namespace ClusterContext.Session.Host;

/// <summary>
/// Where a session host listens and locks: <c>$XDG_RUNTIME_DIR/clustercontext/</c> (the user's own, 0700), else
/// <c>$TMPDIR/clustercontext-UID/sessions/</c>. A host is named by the developer context it serves (a hash of the
/// kubeconfig files, context, namespace, target and agent settings), or by the name a user gave it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static partial class SessionHostPaths
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The user's folder of session sockets (made 0700 if missing; a folder of that name someone else made is refused).</summary>
    public static string Folder(IDictionary environment)
    {
        var runtime = environment["XDG_RUNTIME_DIR"] as string;
        var folder = !string.IsNullOrEmpty(runtime) && Directory.Exists(runtime)
            ? Path.Combine(runtime, "clustercontext")
            : Path.Combine(Hooks.FileSystem.CacheFolder.UserFolder, "sessions");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!, OwnerOnly);
            Directory.CreateDirectory(folder, OwnerOnly);

            // A folder someone else made under this name (or a link to one) is not used.
            Hooks.FileSystem.CacheFolder.EnsureOwn(folder);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"Cannot use {folder} for the session's socket ({ex.Message}); remove it if another user made it, or set session.shared to false.", ex);
        }

        return folder;
    }

    /// <summary>A session's files: its socket, its lock (which also says who holds it) and the host's log.</summary>
    public static SessionHostFiles For(string folder, string name) =>
        new(name, Path.Combine(folder, name + ".sock"), Path.Combine(folder, name + ".lock"), Path.Combine(folder, name + ".log"));

    /// <summary>The session for <paramref name="options"/>: the named one, else the one its developer context implies.</summary>
    public static string Name(ClusterContextOptions options, IDictionary environment)
    {
        if (options.Session.Name is { } name)
        {
            return ValidName().IsMatch(name) ? name
                : throw new ConfigurationException($"session.name '{name}' is not a session name: use letters, digits, '.', '_' and '-' (at most 64).");
        }

        var key = new StringBuilder();
        foreach (var kubeconfig in KubeconfigFiles(environment))
        {
            // A changed kubeconfig (another current context, new credentials) is another developer context.
            var info = new FileInfo(kubeconfig);
            key.Append("kubeconfig=").Append(info.FullName).Append('@').Append(info.Exists ? info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture) : "-").Append('\n');
        }

        key.Append("context=").Append(options.Context).Append('\n')
            .Append("namespace=").Append(options.Namespace).Append('\n')
            .Append("target=").Append(options.Target).Append('\n')
            .Append("image=").Append(options.Agent.Image).Append('\n')
            .Append("port=").Append(options.Agent.Port?.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("capabilities=").Append(string.Join(',', KubeConnector.Capabilities(options))).Append('\n');
        return "ctx-" + Fnv1a64(Encoding.UTF8.GetBytes(key.ToString())).ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// FNV-1a, 64 bits: a name, not a secret (the folder is the user's own and the host checks its peers' uid), and
    /// the first thing a joining process computes, where a cryptographic digest would first load the crypto library.
    /// </summary>
    internal static ulong Fnv1a64(ReadOnlySpan<byte> data)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in data)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    private static string[] KubeconfigFiles(IDictionary environment)
    {
        if (environment["KUBECONFIG"] is string { Length: > 0 } list)
        {
            return list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        }

        var home = environment["HOME"] as string ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return [Path.Combine(home, ".kube", "config")];
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ValidName();
}

/// <summary>The files of one session host.</summary>
internal sealed record SessionHostFiles(string Name, string Socket, string Lock, string Log);
