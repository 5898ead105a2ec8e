using System.Globalization;
using System.Runtime.CompilerServices;
using ClusterContext.Patching.Internal;

namespace ClusterContext.Patching.Probe;

/// <summary>
/// Patches a method that has JIT'd code, and prints the protection of each of its bodies' pages afterwards as
/// /proc/self/maps shows it ("protection=r-xp", ...). With W^X off the runtime writes new code and stubs straight
/// into its executable pages: a patch must leave them writable, or the next stub the runtime writes there crashes
/// the process. Exit code 0.
/// </summary>
internal static unsafe class CodePages
{
    public static nint Original;

    public static int Run()
    {
        Console.WriteLine($"before: {Target(3)}");
        var patch = MethodPatcher.Shared.Patch(typeof(CodePages).GetMethod(nameof(Target))!, typeof(CodePages).GetMethod(nameof(Replacement))!, "code-pages");
        Original = patch.Original;
        Console.WriteLine($"patched: {Target(3)}");
        foreach (var body in ((DetourEngine)MethodPatcher.Shared).BodiesOf(patch))
        {
            Console.WriteLine($"protection={ProtectionOf(body)}");
        }

        MethodPatcher.Shared.Remove(patch);
        return 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Target(int x)
    {
        var total = 0;
        for (var i = 0; i < (x & 7); i++)
        {
            total += i ^ x;
        }

        return total + 1;
    }

    public static int Replacement(int x) => ((delegate*<int, int>)Original)(x) + 1000;

    private static string ProtectionOf(nint address)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var range = line[..line.IndexOf(' ', StringComparison.Ordinal)].Split('-');
            var start = long.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var end = long.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (address >= start && address < end)
            {
                return line.Split(' ')[1];
            }
        }

        return "unmapped";
    }
}
