namespace ClusterContext.Session.Host;

/// <summary>
/// The native shim, <c>libclusterctx.so</c> beside the hook: what a program that is not .NET needs in its environment
/// to run in the pod's context through the session host (a .NET process that loads it leaves the work to the hook).
/// </summary>
internal static class NativeShim
{
    public const string FileName = "libclusterctx.so";

    /// <summary>The variable that names the session host's socket to the shim.</summary>
    public const string SocketVariable = "CLUSTERCONTEXT_SHIM_SOCKET";

    /// <summary>The shim beside this assembly (the hook's folder); null when it was built without one.</summary>
    public static string? BesideHook =>
        Path.GetDirectoryName(typeof(NativeShim).Assembly.Location) is { Length: > 0 } folder && File.Exists(Path.Combine(folder, FileName))
            ? Path.Combine(folder, FileName)
            : null;

    /// <summary>The variables (and their values) that give programs the shim, joined to the host at <paramref name="socket"/>.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Variables(string shim, string socket, string? preloaded) =>
    [
        new("LD_PRELOAD", preloaded switch
        {
            { Length: > 0 } other when other.Split(':', ' ').Contains(shim) => other,
            { Length: > 0 } other => shim + ":" + other,
            _ => shim,
        }),
        new(SocketVariable, socket),
        // libuv (Node) reads files through io_uring when asked to, past any preloaded library.
        new("UV_USE_IO_URING", "0"),
    ];
}
