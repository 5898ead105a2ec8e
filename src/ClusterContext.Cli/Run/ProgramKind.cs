namespace ClusterContext.Cli.Run;

/// <summary>Whether a command runs .NET code the startup hook can load into: <c>dotnet …</c>, or an app (apphost or dll) with its runtime configuration beside it.</summary>
internal static class ProgramKind
{
    public static bool IsDotnet(string command, string? resolvedPath)
    {
        var name = Path.GetFileName(command);
        if (name is "dotnet" or "dotnet.exe")
        {
            return true;
        }

        var path = resolvedPath ?? command;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is null)
        {
            return false;
        }

        var stem = Path.GetFileName(path);
        if (stem.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || stem.EndsWith(".exe", StringComparison.OrdinalIgnoreCase))
        {
            stem = stem[..^4];
        }

        return File.Exists(Path.Combine(directory, stem + ".runtimeconfig.json"));
    }

    /// <summary>Where <paramref name="command"/> is found as execvp finds it: a path as given, else the first executable on PATH.</summary>
    public static string? Resolve(string command, string? path)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        }

        foreach (var folder in (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, command);
            if (File.Exists(candidate) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
            {
                return candidate;
            }
        }

        return null;
    }
}
