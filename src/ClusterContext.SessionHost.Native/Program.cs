// The session host's entry point as a native executable (see the project file); the host is the library's
// ClusterContext.Session.Host.SessionHostProgram, as for ClusterContext.SessionHost.dll.
return OperatingSystem.IsLinux() ? ClusterContext.Session.Host.SessionHostProgram.RunReportingFailure(args) : 1;
