namespace ClusterContext.Patching.Internal;

/// <summary>
/// Which method handles are patched, readable from the JIT hook without locks or allocation: writers replace the
/// whole array under the engine's lock; readers scan the array they loaded.
/// </summary>
internal static class DetourTable
{
    private static volatile Entry[] s_entries = [];

    public static void Add(Detour detour)
    {
        // Loops, not LINQ: generic code over a value type of this assembly is compiled at run time, at a process's start.
        var entries = s_entries;
        var added = new Entry[entries.Length + detour.MethodHandles.Count];
        entries.CopyTo(added, 0);
        for (var i = 0; i < detour.MethodHandles.Count; i++)
        {
            added[entries.Length + i] = new Entry(detour.MethodHandles[i], detour);
        }

        s_entries = added;
    }

    public static void Remove(Detour detour)
    {
        var kept = new List<Entry>(s_entries.Length);
        foreach (var entry in s_entries)
        {
            if (entry.Detour != detour)
            {
                kept.Add(entry);
            }
        }

        s_entries = [.. kept];
    }

    public static bool IsEmpty => s_entries.Length == 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static Detour? Find(nint methodHandle)
    {
        var entries = s_entries;
        for (var i = 0; i < entries.Length; i++)
        {
            if (entries[i].Handle == methodHandle)
            {
                return entries[i].Detour;
            }
        }

        return null;
    }

    private readonly record struct Entry(nint Handle, Detour Detour);
}
