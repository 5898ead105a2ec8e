namespace ClusterContext.Hosting;

/// <summary>The startup hook's work, run inside <see cref="HookLoadContext"/>.</summary>
internal static class HookEntry
{
    public static void Start()
    {
        try
        {
            // First of all, before this hook's own start-up calls them: the JIT hook goes in and no method compiled from
            // now on inlines a choke point (a copy inlined into a caller is out of reach of any patch).
            Diagnostics.StartupTrace.Mark("hook entered");
            ClusterContextSession.ReserveChokePoints();
            Diagnostics.StartupTrace.Mark("choke points reserved (JIT hook in)");
            var options = ClusterContextSession.LoadOptions();
            Diagnostics.StartupTrace.Mark("options loaded");
            var session = ClusterContextSession.StartBeforeMain(options, new StderrLoggerFactory());
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(session);
            Diagnostics.StartupTrace.Mark("session ready: the app's Main runs next");
        }
        catch (Exception ex) when (ex is ConfigurationException or ClusterContextUnavailableException or PatchException)
        {
            Console.Error.WriteLine($"clustercontext: {ex.Message}");
            Environment.Exit(3);
        }
    }

    /// <summary>Ends the session as the app exits; a failure while ending is reported, never turned into a crash of the app.</summary>
    private static void Stop(ClusterContextSession session)
    {
        try
        {
            if (!session.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(2)))
            {
                Console.Error.WriteLine("clustercontext: the session did not end within 2 s; exiting anyway.");
            }
        }
        catch (AggregateException ex)
        {
            Console.Error.WriteLine($"clustercontext: ending the session failed: {ex.InnerException?.Message ?? ex.Message}");
        }
    }
}
