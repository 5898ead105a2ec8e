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

        var location = typeof(StartupHook).Assembly.Location;
        var folder = Path.GetDirectoryName(location)!;
        var context = new ClusterContext.Hosting.HookLoadContext(folder);
        // The same assembly from a file of its own: the runtime uses a ReadyToRun image's compiled code only in the
        // first load context that maps the file (this one's copy is the default context's, loaded by the runtime), so
        // from the same file every method of the hook would be compiled by the JIT before Main (see build/ReadyToRun.targets).
        var image = Path.Combine(folder, ClusterContext.Hosting.HookLoadContext.ImageFileName);
        var hook = context.LoadFromAssemblyPath(File.Exists(image) ? image : location);
        hook.GetType("ClusterContext.Hosting.HookEntry", throwOnError: true)!
            .GetMethod("Start", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!
            .Invoke(null, null);
    }
}
