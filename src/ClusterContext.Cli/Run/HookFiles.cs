namespace ClusterContext.Cli.Run;

/// <summary>
/// The startup hook shipped with the tool: hook/ beside it, a complete hook folder (ClusterContext.dll, every assembly
/// it loads, the session host's entry point). The tool's own folder is not one: the tool runs on the ASP.NET Core
/// framework (for the sandbox cluster), so the packages that framework provides are not beside it, and a program the
/// hook is given to may not have that framework.
/// </summary>
internal static class HookFiles
{
    /// <summary>The hook's path, as <c>DOTNET_STARTUP_HOOKS</c> takes it.</summary>
    public static string HookPath => Path.Combine(HookFolder, "ClusterContext.dll");

    /// <summary>The native shim for programs that are not .NET, in the hook's folder (absent where it was built without gcc).</summary>
    public static string ShimPath => Path.Combine(HookFolder, Session.Host.NativeShim.FileName);

    /// <summary>The hook's folder.</summary>
    public static string HookFolder => Path.Combine(AppContext.BaseDirectory, "hook");

    /// <summary>The hook, checked to be where a program can load it from.</summary>
    public static string RequireHook()
    {
        var path = HookPath;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new CliException($"The startup hook {path} is missing; reinstall the tool (dotnet tool update -g ClusterContext.Cli).", ExitCodes.RunFailed);
        }

        return path;
    }
}
