// The session host's entry point as a native executable (see the project file); the host is the library's
// ClusterContext.Session.Host.SessionHostProgram, as for ClusterContext.SessionHost.dll.
if (!OperatingSystem.IsLinux())
{
    return 1;
}

try
{
    return ClusterContext.Session.Host.SessionHostProgram.Run(args);
}
catch (Exception ex) when (Environment.GetEnvironmentVariable("CLUSTERCONTEXT_HOST_LOG") is { Length: > 0 } log)
{
    // The starting process shows this when the host does not come up.
    File.AppendAllText(log, $"The session host could not start: {ex}{Environment.NewLine}");
    return 1;
}
