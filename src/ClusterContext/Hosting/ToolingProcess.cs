using System.Reflection;

namespace ClusterContext.Hosting;

/// <summary>
/// The SDK's and the IDEs' own processes. <c>DOTNET_STARTUP_HOOKS</c> set for <c>dotnet run</c>, <c>dotnet test</c> or
/// <c>dotnet watch</c> reaches them too (the dotnet CLI itself, MSBuild and its nodes, the compiler server, the test
/// platform's runner, dotnet-watch): the hook leaves them alone, and the app or test host they start gets the session.
/// </summary>
internal static class ToolingProcess
{
    private static readonly HashSet<string> KnownTools = new(StringComparer.OrdinalIgnoreCase)
    {
        "dotnet", "MSBuild", "VBCSCompiler", "csc", "vbc", "vstest.console", "datacollector", "dotnet-watch",
        "Microsoft.CodeAnalysis.LanguageServer", "OmniSharp",

        // The command-line tool sets the hook for the programs it runs, and must not act in itself.
        "clusterctx",
    };

    /// <summary>Whether this process is one of them: its entry assembly lives in the SDK's folder, or is a known tool.</summary>
    public static bool IsCurrent()
    {
        var entry = Assembly.GetEntryAssembly()?.Location is { Length: > 0 } location ? location : Environment.GetCommandLineArgs().FirstOrDefault() ?? "";
        return Is(entry, DotnetRoot);
    }

    /// <summary>Whether this process is dotnet-watch, which starts the app with a DOTNET_STARTUP_HOOKS of its own.</summary>
    public static bool IsDotnetWatch() =>
        string.Equals(Assembly.GetEntryAssembly()?.GetName().Name, "dotnet-watch", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// dotnet-watch (SDK 10.0.4xx) passes the app <c>-e DOTNET_STARTUP_HOOKS=</c> with its hot reload agent alone, so
    /// the inherited value, this hook, is lost; the runtime configuration's <c>STARTUP_HOOKS</c> survives, as the host
    /// appends it to the variable's.
    /// </summary>
    public static string DotnetWatchWarning(string hookPath) =>
        "clustercontext: warning: dotnet watch starts the app with a DOTNET_STARTUP_HOOKS of its own (its hot reload agent) "
        + "in place of this one, so the app it runs would not be in the pod's context. To load ClusterContext in every run of the app, "
        + $"add to its project: <ItemGroup><RuntimeHostConfigurationOption Include=\"STARTUP_HOOKS\" Value=\"{hookPath}\" /></ItemGroup>";

    internal static bool Is(string entryAssembly, string dotnetRoot) =>
        entryAssembly.StartsWith(Path.Combine(dotnetRoot, "sdk") + Path.DirectorySeparatorChar, StringComparison.Ordinal)
        || KnownTools.Contains(Path.GetFileNameWithoutExtension(entryAssembly));

    /// <summary>The .NET installation this process runs from: <c>.../dotnet/shared/Microsoft.NETCore.App/&lt;version&gt;/</c> → <c>.../dotnet</c>.</summary>
    public static string DotnetRoot
    {
        get
        {
            var runtime = new DirectoryInfo(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar));
            return runtime.Parent?.Parent?.Parent?.FullName ?? "/usr/share/dotnet";
        }
    }
}
