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

    /// <summary>
    /// Why the native shim cannot reach into <paramref name="path"/>, with the fix; null when it can (a dynamically
    /// linked program, or a script, whose interpreter is): a static binary never loads a preloaded library, and a Go
    /// program makes its own system calls for files and connections.
    /// </summary>
    public static string? NativeLimit(string path)
    {
        byte[] header;
        try
        {
            using var file = File.OpenRead(path);
            header = new byte[Math.Min(file.Length, 1 << 20)];
            file.ReadExactly(header);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (header.Length < 64 || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2)
        {
            return null; // a script (its interpreter gets the shim), or not a 64-bit ELF program
        }

        var name = Path.GetFileName(path);
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.SetUser | UnixFileMode.SetGroup)) != 0)
        {
            return $"{name} is set-user-ID or set-group-ID: the loader ignores preloaded libraries for such programs, so it gets the pod's environment only; its files, names and connections stay this machine's (run a copy without the s bit: cp {path} /tmp/{name}).";
        }

        if (header.AsSpan().IndexOf(GoBuildInfo) >= 0 || header.AsSpan().IndexOf("Go build ID:"u8) >= 0)
        {
            return $"{name} is a Go program: Go makes its own system calls, so it gets the pod's environment only; its files, names and connections stay this machine's (mirror them with a cgo build: CGO_ENABLED=1 go build -ldflags=-linkmode=external, and GODEBUG=netdns=cgo).";
        }

        return HasInterpreter(header) ? null
            : $"{name} is statically linked: no preloaded library reaches it, so it gets the pod's environment only; its files, names and connections stay this machine's (run a dynamically linked build of it).";
    }

    /// <summary>The magic bytes of a Go binary's build information (its .go.buildinfo section).</summary>
    private static ReadOnlySpan<byte> GoBuildInfo => [0xFF, 0x20, 0x47, 0x6F, 0x20, 0x62, 0x75, 0x69, 0x6C, 0x64, 0x69, 0x6E, 0x66, 0x3A]; // "\xff Go buildinf:"

    /// <summary>What of the pod a program that gets the shim still misses, to be said before it runs; null when nothing.</summary>
    public static string? NativeCaveat(string path) => Path.GetFileName(path) is "node" or "nodejs"
        ? "node: fs.stat, fs.lstat and fs.statSync make the statx system call directly, which no preloaded library sees: for the pod's paths they fail with ENOENT. Reading them works (fs.readFile, fs.existsSync, require), and so do names and connections."
        : null;

    /// <summary>Whether an ELF64 program has a PT_INTERP header (a dynamic loader, which loads LD_PRELOAD).</summary>
    private static bool HasInterpreter(byte[] elf)
    {
        var programHeaders = (long)BitConverter.ToUInt64(elf, 32);
        var entrySize = BitConverter.ToUInt16(elf, 54);
        var count = BitConverter.ToUInt16(elf, 56);
        for (var i = 0; i < count; i++)
        {
            var offset = programHeaders + (i * (long)entrySize);
            if (offset + 4 > elf.Length)
            {
                return true; // past what was read: assume the usual
            }

            if (BitConverter.ToUInt32(elf, (int)offset) == 3)
            {
                return true;
            }
        }

        return false;
    }
}
