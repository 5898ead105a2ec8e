using System.Runtime.InteropServices;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// Executable memory for stubs and trampolines, allocated within ±2 GiB of the code that jumps to it (so that a
/// 5-byte relative jump reaches it and relocated RIP-relative operands still fit), and writes into code pages
/// the runtime owns.
/// </summary>
internal static unsafe class CodeMemory
{
    private const int PageSize = 4096;
    private const long Reach = int.MaxValue - (16 * 1024 * 1024);
    private const int BlockSize = 64 * 1024;

    private static readonly Lock Gate = new();
    private static readonly List<Block> Blocks = [];

    /// <summary>Allocates <paramref name="size"/> bytes of executable memory within rel32 reach of <paramref name="near"/>, or anywhere when <paramref name="near"/> is 0.</summary>
    public static nint Allocate(nint near, int size)
    {
        size = (size + 15) & ~15;
        lock (Gate)
        {
            foreach (var block in Blocks)
            {
                if (block.Used + size <= BlockSize && (near == 0 || IsWithinReach(near, block.Start) && IsWithinReach(near, block.Start + BlockSize)))
                {
                    var address = block.Start + block.Used;
                    block.Used += size;
                    return address;
                }
            }

            var start = MapNear(near);
            Blocks.Add(new Block(start) { Used = size });
            return start;
        }
    }

    public static bool IsWithinReach(nint from, nint to) => Math.Abs((long)to - from) < Reach;

    /// <summary>Writes into memory from <see cref="Allocate"/>, which stays read-write-execute.</summary>
    public static void WriteOwn(nint address, ReadOnlySpan<byte> bytes) => bytes.CopyTo(new Span<byte>((void*)address, bytes.Length));

    /// <summary>Writes bytes into code the runtime owns, making its pages writable for the duration.</summary>
    public static void Write(nint address, ReadOnlySpan<byte> bytes)
    {
        lock (Gate)
        {
            using (Unprotect(address, bytes.Length))
            {
                bytes.CopyTo(new Span<byte>((void*)address, bytes.Length));
            }
        }
    }

    /// <summary>Replaces the 8 bytes at an 8-aligned address in runtime-owned code with one store, so that no thread ever sees half of it.</summary>
    public static void WriteAtomic(nint alignedAddress, ulong value)
    {
        lock (Gate)
        {
            using (Unprotect(alignedAddress, 8))
            {
                Interlocked.Exchange(ref *(ulong*)alignedAddress, value);
            }
        }
    }

    /// <summary>Makes read-only data (a vtable) writable for good.</summary>
    public static void MakeWritableData(nint address, int length)
    {
        var first = address & ~(nint)(PageSize - 1);
        var last = (address + length + PageSize - 1) & ~(nint)(PageSize - 1);
        if (LibC.Mprotect((void*)first, (nuint)(last - first), LibC.ProtRead | LibC.ProtWrite) != 0)
        {
            throw new PatchException($"mprotect(0x{first:x}, RW) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>Makes code pages writable; dispose to make them read-execute again.</summary>
    public static WritableScope Unprotect(nint address, int length)
    {
        var first = address & ~(nint)(PageSize - 1);
        var last = (address + length + PageSize - 1) & ~(nint)(PageSize - 1);
        if (LibC.Mprotect((void*)first, (nuint)(last - first), LibC.ProtRead | LibC.ProtWrite | LibC.ProtExec) != 0)
        {
            throw new PatchException($"mprotect(0x{first:x}, RWX) failed with errno {Marshal.GetLastPInvokeError()}; the system does not allow writing to code (SELinux execmod, a hardened kernel?).");
        }

        return new WritableScope(first, last - first);
    }

    private static nint MapNear(nint near)
    {
        const int protection = LibC.ProtRead | LibC.ProtWrite | LibC.ProtExec;
        if (near == 0)
        {
            var anywhere = LibC.Mmap(null, BlockSize, protection, LibC.MapPrivate | LibC.MapAnonymous, -1, 0);
            return (nint)anywhere != -1 ? (nint)anywhere : throw new PatchException($"mmap of {BlockSize} bytes failed with errno {Marshal.GetLastPInvokeError()}.");
        }

        // The runtime reserves large ranges (GC heap, code heaps), so free space near code is found from the
        // process's own map: every gap, closest first.
        foreach (var candidate in FreeBlocksNear(near))
        {
            var mapped = LibC.Mmap((void*)candidate, BlockSize, protection, LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixedNoReplace, -1, 0);
            if ((nint)mapped == candidate)
            {
                return candidate;
            }
        }

        throw new PatchException($"No free memory within 2 GiB of 0x{near:x} (the runtime has reserved the address space around its code).");
    }

    private static IEnumerable<nint> FreeBlocksNear(nint near)
    {
        var mappings = new List<(long Start, long End)>();
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var range = line.AsSpan(0, line.IndexOf(' ', StringComparison.Ordinal));
            var dash = range.IndexOf('-');
            mappings.Add((long.Parse(range[..dash], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture),
                          long.Parse(range[(dash + 1)..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)));
        }

        mappings.Sort();
        var candidates = new List<long>();
        for (var i = 0; i + 1 < mappings.Count; i++)
        {
            var gapStart = (mappings[i].End + BlockSize - 1) & ~(BlockSize - 1L);
            var gapEnd = mappings[i + 1].Start & ~(BlockSize - 1L);
            if (gapEnd - gapStart < BlockSize)
            {
                continue;
            }

            // The block in this gap closest to the code.
            var best = Math.Clamp((long)near & ~(BlockSize - 1L), gapStart, gapEnd - BlockSize);
            if (IsWithinReach(near, (nint)best) && IsWithinReach(near, (nint)(best + BlockSize)))
            {
                candidates.Add(best);
            }
        }

        return candidates.OrderBy(c => Math.Abs(c - near)).Select(c => (nint)c);
    }

    private sealed class Block(nint start)
    {
        public nint Start { get; } = start;

        public int Used { get; set; }
    }

    /// <summary>
    /// What the runtime's code pages are between writes. With W^X off (DOTNET_EnableWriteXorExecute=0) the runtime
    /// writes new code straight into its executable pages, so they stay writable: making one read-execute after a
    /// patch would crash the next method the JIT places on that page.
    /// </summary>
    private static readonly int CodeProtection = Environment.GetEnvironmentVariable("DOTNET_EnableWriteXorExecute") == "0"
        || Environment.GetEnvironmentVariable("COMPlus_EnableWriteXorExecute") == "0"
            ? LibC.ProtRead | LibC.ProtWrite | LibC.ProtExec
            : LibC.ProtRead | LibC.ProtExec;

    internal readonly struct WritableScope(nint start, nint length) : IDisposable
    {
        public void Dispose() => LibC.Mprotect((void*)start, (nuint)length, CodeProtection);
    }
}
