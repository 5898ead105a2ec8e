using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

/// <summary>
/// Entry point for <c>DOTNET_STARTUP_HOOKS=/path/ClusterContext.dll</c>: runs before the app's <c>Main</c>, reads
/// <c>clustercontext.json</c> / <c>CLUSTERCONTEXT_*</c> and starts the session. The type the runtime looks for has no
/// namespace.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        // The hook's own dependencies sit next to it, not in the app's folder; this must be in place before any
        // type from them is touched, so the work happens in a method compiled after it.
        var folder = Path.GetDirectoryName(typeof(StartupHook).Assembly.Location)!;
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            var candidate = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
        };
        Start();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Start()
    {
        try
        {
            var options = ClusterContext.ClusterContextSession.LoadOptions();
            var session = ClusterContext.ClusterContextSession.Start(options, new StderrLoggerFactory());
            AppDomain.CurrentDomain.ProcessExit += (_, _) => session.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is ClusterContext.ConfigurationException or ClusterContext.ClusterContextUnavailableException)
        {
            Console.Error.WriteLine($"clustercontext: {ex.Message}");
            Environment.Exit(3);
        }
    }
}
