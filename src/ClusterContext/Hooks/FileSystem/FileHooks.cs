using ClusterContext.Patching;
using Microsoft.Win32.SafeHandles;

namespace ClusterContext.Hooks.FileSystem;

/// <summary>
/// Replacements for the file choke points: a path the rules send to the pod is swapped for its local copy (or for a
/// path that does not exist), then the original runs on it, so every API above behaves exactly as with a local file.
/// </summary>
internal static unsafe class FileHooks
{
    private const string Owner = "clustercontext.files";

    private static PathRules? s_rules;
    private static RemoteFileCache? s_cache;
    private static nint s_open;
    private static nint s_exists;
    private static nint s_directoryExists;
    private static nint s_status;
    private static nint s_openDirectory;
    private static nint s_watch;

    public static void Install(IMethodPatcher patcher, PathRules rules, RemoteFileCache cache)
    {
        s_rules = rules;
        s_cache = cache;
        Patch(patcher);
    }

    /// <summary>Puts the patches in place, once; until <see cref="Install"/> names the session, every call goes to the original.</summary>
    public static void Patch(IMethodPatcher patcher)
    {
        if (Patches(patcher) is { } set)
        {
            patcher.Patch([set]);
        }
    }

    /// <summary>The patches <see cref="Patch"/> puts in place, to be put in with other hooks' at once; null when in place already.</summary>
    // The originals are in place before any call can reach a replacement: other threads may be calling them.
    internal static PatchSet? Patches(IMethodPatcher patcher) => patcher.Owns(Owner) ? null : new(
        [
            (BclChokePoints.FileOpen, Method(nameof(Open))),
            (BclChokePoints.FileExists, Method(nameof(FileExists))),
            (BclChokePoints.DirectoryExists, Method(nameof(DirectoryExists))),
            (BclChokePoints.FileStatusRefresh, Method(nameof(RefreshStatus))),
            (BclChokePoints.OpenDirectory, Method(nameof(OpenDirectory))),
            (BclChokePoints.FileWatch, Method(nameof(AddWatch))),
        ],
        Owner,
        patches => (s_open, s_exists, s_directoryExists, s_status, s_openDirectory, s_watch) =
            (patches[0].Original, patches[1].Original, patches[2].Original, patches[3].Original, patches[4].Original, patches[5].Original));

    public static void Uninstall(IMethodPatcher patcher)
    {
        patcher.RemoveAll(Owner);
        s_rules = null;
        s_cache = null;
    }

    public static object Open(string fullPath, FileMode mode, FileAccess access, FileShare share, FileOptions options, long preallocationSize,
        UnixFileMode openPermissions, out long fileLength, out UnixFileMode filePermissions, bool failForSymlink, out bool wasSymlink, object? createOpenException)
    {
        var path = fullPath;
        if (s_rules is { } rules && s_cache is { } cache && !HookBypass.Active)
        {
            var disposition = rules.Classify(fullPath);
            switch (disposition)
            {
                case PathDisposition.NotFound:
                    path = mode is FileMode.Create or FileMode.CreateNew or FileMode.OpenOrCreate
                        ? cache.PrepareLocalCreate(fullPath)
                        : throw new FileNotFoundException($"Could not find file '{fullPath}'.", fullPath);
                    break;
                case PathDisposition.RemoteRead or PathDisposition.RemoteReadWrite:
                    path = cache.Materialize(fullPath);
                    if (path == cache.MissingPath(fullPath))
                    {
                        path = mode is FileMode.Create or FileMode.CreateNew or FileMode.OpenOrCreate
                            ? cache.PrepareLocalCreate(fullPath)
                            : throw new FileNotFoundException($"Could not find file '{fullPath}' in the pod.", fullPath);
                    }

                    if ((access & FileAccess.Write) != 0)
                    {
                        // From now on the app sees its own copy; in write mode (or a readWrite path) it also reaches the pod.
                        cache.MarkWritten(fullPath, reachPod: disposition == PathDisposition.RemoteReadWrite);
                    }

                    break;
            }
        }

        return ((delegate*<string, FileMode, FileAccess, FileShare, FileOptions, long, UnixFileMode, out long, out UnixFileMode, bool, out bool, object?, object>)s_open)(
            path, mode, access, share, options, preallocationSize, openPermissions, out fileLength, out filePermissions, failForSymlink, out wasSymlink, createOpenException);
    }

    public static bool FileExists(ReadOnlySpan<char> fullPath, ref byte errorInfo)
    {
        var redirected = Redirect(fullPath);
        return ((delegate*<ReadOnlySpan<char>, ref byte, bool>)s_exists)(redirected is null ? fullPath : redirected.AsSpan(), ref errorInfo);
    }

    public static bool DirectoryExists(ReadOnlySpan<char> fullPath, ref byte errorInfo)
    {
        var redirected = Redirect(fullPath);
        return ((delegate*<ReadOnlySpan<char>, ref byte, bool>)s_directoryExists)(redirected is null ? fullPath : redirected.AsSpan(), ref errorInfo);
    }

    public static void RefreshStatus(ref byte status, SafeFileHandle? handle, ReadOnlySpan<char> path)
    {
        // With a handle the status comes from the open file, which is already the local copy.
        var redirected = handle is null ? Redirect(path) : null;
        ((delegate*<ref byte, SafeFileHandle?, ReadOnlySpan<char>, void>)s_status)(ref status, handle, redirected is null ? path : redirected.AsSpan());
    }

    public static nint OpenDirectory(string path) =>
        ((delegate*<string, nint>)s_openDirectory)(Redirect(path.AsSpan()) ?? path);

    /// <summary>
    /// FileSystemWatcher on a pod directory watches its local copy, which the cache keeps current: the pod's edits
    /// arrive as the copy's file events, under the names the app asked for.
    /// </summary>
    public static int AddWatch(SafeFileHandle inotify, string path, uint mask) =>
        ((delegate*<SafeFileHandle, string, uint, int>)s_watch)(inotify, Redirect(path.AsSpan()) ?? path, mask);

    /// <summary>The local stand-in for a path the pod serves; null for a local path.</summary>
    private static string? Redirect(ReadOnlySpan<char> fullPath)
    {
        if (s_rules is not { } rules || s_cache is not { } cache || fullPath.IsEmpty || fullPath[0] != '/' || HookBypass.Active)
        {
            return null;
        }

        var path = fullPath.TrimEnd('/').ToString();
        return rules.Classify(path.Length == 0 ? "/" : path) switch
        {
            PathDisposition.NotFound => cache.MissingPath(path),
            PathDisposition.RemoteRead or PathDisposition.RemoteReadWrite => cache.Materialize(path),
            _ => null,
        };
    }

    private static System.Reflection.MethodInfo Method(string name) => typeof(FileHooks).GetMethod(name)!;
}
