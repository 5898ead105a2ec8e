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
    };

    /// <summary>Whether this process is one of them: its entry assembly lives in the SDK's folder, or is a known tool.</summary>
    public static bool IsCurrent()
    {
        var entry = Assembly.GetEntryAssembly()?.Location is { Length: > 0 } location ? location : Environment.GetCommandLineArgs().FirstOrDefault() ?? "";
        return Is(entry, DotnetRoot);
    }

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
