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
        Entry[] added = [.. s_entries, .. detour.MethodHandles.Select(h => new Entry(h, detour))];
        s_entries = added;
    }

    public static void Remove(Detour detour) => s_entries = [.. s_entries.Where(e => e.Detour != detour)];

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
