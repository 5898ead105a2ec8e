using System.Reflection;
using System.Runtime.Loader;

// The session host process (see ClusterContext.Session.Host.SessionHostProgram). It lives in the hook's assembly;
// this entry point only finds it and what it depends on: beside this file, else in the folders the starting process
// loaded them from (named by CLUSTERCONTEXT_HOST_PROBE: an ASP.NET Core app's logging comes with its framework).
var probe = (Environment.GetEnvironmentVariable("CLUSTERCONTEXT_HOST_PROBE") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
AssemblyLoadContext.Default.Resolving += (context, name) =>
{
    foreach (var folder in probe)
    {
        var candidate = Path.Combine(folder, name.Name + ".dll");
        if (File.Exists(candidate))
        {
            return context.LoadFromAssemblyPath(candidate);
        }
    }

    return null;
};

try
{
    var program = Type.GetType("ClusterContext.Session.Host.SessionHostProgram, ClusterContext", throwOnError: true)!;
    var run = program.GetMethod("RunReportingFailure", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
    return (int)run.Invoke(null, [args])!;
}
catch (Exception ex) when (Environment.GetEnvironmentVariable("CLUSTERCONTEXT_HOST_LOG") is { Length: > 0 } log)
{
    // The starting process shows this when the host does not come up.
    File.AppendAllText(log, $"The session host could not start: {(ex as TargetInvocationException)?.InnerException ?? ex}{Environment.NewLine}");
    return 1;
}
