namespace ClusterContext.Hosting;

/// <summary>The startup hook's work, run inside <see cref="HookLoadContext"/>.</summary>
internal static class HookEntry
{
    public static void Start()
    {
        try
        {
            var options = ClusterContextSession.LoadOptions();
            var session = ClusterContextSession.Start(options, new StderrLoggerFactory());
            AppDomain.CurrentDomain.ProcessExit += (_, _) => session.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(2));
        }
        catch (Exception ex) when (ex is ConfigurationException or ClusterContextUnavailableException or Patching.PatchException)
        {
            Console.Error.WriteLine($"clustercontext: {ex.Message}");
            Environment.Exit(3);
        }
    }
}
