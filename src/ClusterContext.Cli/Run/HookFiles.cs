namespace ClusterContext.Cli.Run;

/// <summary>The startup hook shipped beside the tool: ClusterContext.dll and the session host's entry point.</summary>
internal static class HookFiles
{
    /// <summary>The hook's path, as <c>DOTNET_STARTUP_HOOKS</c> takes it.</summary>
    public static string HookPath => typeof(ClusterContextSession).Assembly.Location;

    /// <summary>The hook, checked to be where a program can load it from.</summary>
    public static string RequireHook()
    {
        var path = HookPath;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new CliException($"The startup hook ClusterContext.dll is missing beside clusterctx ({AppContext.BaseDirectory}); reinstall the tool (dotnet tool update -g ClusterContext.Cli).", ExitCodes.RunFailed);
        }

        return path;
    }
}
