using System.Reflection;
using System.Runtime.Loader;

namespace ClusterContext.Hosting;

/// <summary>
/// Loads the hook's own dependencies from the hook's folder; the runtime's assemblies (System.*) still come from the
/// default context, so that the hook and the app agree on the types they exchange with the runtime.
/// </summary>
internal sealed class HookLoadContext(string folder) : AssemblyLoadContext("ClusterContext", isCollectible: false)
{
    /// <summary>
    /// The hook's assembly as this context loads it, beside <c>ClusterContext.dll</c> (a copy of it; a build with no
    /// ReadyToRun has none, and this context loads <c>ClusterContext.dll</c> itself).
    /// </summary>
    public const string ImageFileName = "ClusterContext.Hook.dll";

    private static readonly string RuntimeDirectory = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var candidate = Path.Combine(folder, assemblyName.Name + ".dll");
        var isRuntime = File.Exists(Path.Combine(RuntimeDirectory, assemblyName.Name + ".dll"));
        return !isRuntime && File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
    }
}
