using System.Reflection;
using System.Runtime.Loader;

/// <summary>
/// Entry point for <c>DOTNET_STARTUP_HOOKS=/path/ClusterContext.dll</c>: runs before the app's <c>Main</c>. The type
/// the runtime looks for has no namespace. The hook runs in an assembly load context of its own, loaded from its
/// own folder, so that the app's copies of shared packages (another version of Microsoft.Extensions.Logging, say)
/// and the hook's never meet.
/// </summary>
internal static class StartupHook
{
    private static int s_initialized;

    public static void Initialize()
    {
        // Named twice (the variable and the project's STARTUP_HOOKS, which the host joins): one session all the same.
        if (Interlocked.Exchange(ref s_initialized, 1) == 1)
        {
            return;
        }

        if (ClusterContext.Hosting.ToolingProcess.IsCurrent())
        {
            if (ClusterContext.Hosting.ToolingProcess.IsDotnetWatch())
            {
                Console.Error.WriteLine(ClusterContext.Hosting.ToolingProcess.DotnetWatchWarning(typeof(StartupHook).Assembly.Location));
            }

            return;
        }

        var folder = Path.GetDirectoryName(typeof(StartupHook).Assembly.Location)!;
        var context = new ClusterContext.Hosting.HookLoadContext(folder);
        var hook = context.LoadFromAssemblyPath(typeof(StartupHook).Assembly.Location);
        hook.GetType("ClusterContext.Hosting.HookEntry", throwOnError: true)!
            .GetMethod("Start", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!
            .Invoke(null, null);
    }
}
