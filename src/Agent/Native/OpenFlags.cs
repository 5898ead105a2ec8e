using System.Runtime.InteropServices;

namespace ClusterContext.Agent.Native;

/// <summary>open(2) flags and openat2 resolve flags; a few differ between x86-64 and arm64.</summary>
internal static class OpenFlags
{
    private static readonly bool Arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    public const int ReadOnly = 0;
    public const int WriteOnly = 1;
    public const int Create = 0x40;
    public const int Truncate = 0x200;
    public const int CloseOnExec = 0x80000;
    public const int Path = 0x200000;

    public static readonly int Directory = Arm ? 0x4000 : 0x10000;
    public static readonly int NoFollow = Arm ? 0x8000 : 0x20000;

    /// <summary>Magic links (/proc/*/root, /proc/*/fd/*) could lead out of the container; refuse them.</summary>
    public const ulong ResolveNoMagicLinks = 0x02;

    /// <summary>Treat the directory as the root: "..", absolute paths and absolute symlinks stay inside it.</summary>
    public const ulong ResolveInRoot = 0x10;
}
