using System.Reflection;
using System.Runtime.CompilerServices;
using ClusterContext.Patching.Internal;
using Iced.Intel;
using Xunit.Abstractions;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// The detour engine's length decoder against a full disassembler: on the code the JIT and ReadyToRun made for
/// thousands of the framework's methods, and on random bytes, every instruction the disassembler decodes in 64-bit
/// mode has the same length, effect on the flow, branch target and RIP-relative operand in ours.
/// </summary>
public sealed unsafe class X64DecoderTests(ITestOutputHelper output)
{
    private const ulong Ip = 0x7f00_0000_1000;

    [Fact]
    public void Compiled_code_of_the_framework_decodes_as_the_disassembler_decodes_it()
    {
        var compared = 0;
        var mismatches = new List<string>();
        var methods = 0;
        foreach (var method in FrameworkMethods())
        {
            nint body;
            try
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
                body = X64.FollowToBody(method.MethodHandle.GetFunctionPointer(), _ => false);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or BadImageFormatException or TypeLoadException or MemberAccessException or PatchException)
            {
                continue;
            }

            if (body == 0)
            {
                continue;
            }

            methods++;
            // Each method's instructions reachable from its entry, as the disassembler walks them.
            compared += CompareReachable(body, method.DeclaringType + "::" + method.Name, mismatches);
        }

        output.WriteLine($"{methods} methods, {compared} instructions compared, {mismatches.Count} mismatches");
        Assert.True(methods > 2000, $"only {methods} methods had code");
        AssertAllAlike(compared, 100_000, mismatches, 0);
    }

    [Fact]
    public void Random_bytes_decode_as_the_disassembler_decodes_them()
    {
        var random = new Random(20261206);
        var bytes = new byte[16];
        var compared = 0;
        var refusedHere = 0;
        var mismatches = new List<string>();
        for (var round = 0; round < 300_000; round++)
        {
            random.NextBytes(bytes);
            // Weigh towards what compiled code is made of: prefixes, REX, the escapes, VEX and EVEX.
            switch (round % 6)
            {
                case 1: bytes[0] = (byte)(0x40 | (bytes[0] & 0x0F)); break;
                case 2: bytes[0] = 0x0F; break;
                case 3: bytes[0] = 0xC4; break;
                case 4: bytes[0] = 0x62; break;
                case 5: bytes[0] = 0x66; bytes[1] = 0x0F; break;
            }

            var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(bytes), Ip);
            decoder.Decode(out var reference);
            var ours = X64Decoder.TryDecode(bytes, out var instruction);
            if (reference.IsInvalid || reference.Code == Code.INVALID)
            {
                continue;
            }

            compared++;
            if (!ours)
            {
                refusedHere++;
            }

            if (Mismatch(bytes, reference, ours, instruction) is { } what)
            {
                mismatches.Add(what);
            }
        }

        output.WriteLine($"{compared} instructions compared, {refusedHere} refused here, {mismatches.Count} mismatches");
        AssertAllAlike(compared, 150_000, mismatches, 6);
    }

    [Fact]
    public void Every_opcode_and_ModRM_of_the_legacy_maps_decodes_as_the_disassembler_decodes_it()
    {
        byte[][] prefixes = [[], [0x66], [0xF2], [0xF3], [0x48], [0x66, 0x48], [0x67], [0xF0]];
        byte[][] maps = [[], [0x0F], [0x0F, 0x38], [0x0F, 0x3A]];
        var compared = 0;
        var mismatches = new List<string>();
        var bytes = new byte[16];
        foreach (var prefix in prefixes)
        {
            foreach (var map in maps)
            {
                for (var opcode = 0; opcode < 256; opcode++)
                {
                    for (var modRm = 0; modRm < 256; modRm++)
                    {
                        var at = 0;
                        prefix.CopyTo(bytes, at);
                        at += prefix.Length;
                        map.CopyTo(bytes, at);
                        at += map.Length;
                        bytes[at++] = (byte)opcode;
                        bytes[at++] = (byte)modRm;
                        compared += CompareFrom(bytes, at, mismatches);
                    }
                }
            }
        }

        output.WriteLine($"{compared} instructions compared, {mismatches.Count} mismatches");
        AssertAllAlike(compared, 500_000, mismatches, 8);
    }

    [Fact]
    public void Every_VEX_and_EVEX_opcode_of_each_map_decodes_as_the_disassembler_decodes_it()
    {
        byte[] modRms = [0x00, 0x05, 0x0C, 0x44, 0x84, 0xC1];
        var compared = 0;
        var mismatches = new List<string>();
        var bytes = new byte[16];
        for (var evex = 0; evex < 2; evex++)
        {
            foreach (var map in evex == 1 ? new[] { 1, 2, 3, 5, 6 } : [1, 2, 3])
            {
                for (var payload = 0; payload < 16; payload++)
                {
                    var w = payload & 1;
                    var pp = (payload >> 1) & 3;
                    var l = payload >> 3;
                    for (var opcode = 0; opcode < 256; opcode++)
                    {
                        foreach (var modRm in modRms)
                        {
                            var at = 0;
                            if (evex == 1)
                            {
                                bytes[at++] = 0x62;
                                bytes[at++] = (byte)(0xF0 | map);
                                bytes[at++] = (byte)((w << 7) | 0x7C | pp);
                                bytes[at++] = (byte)((l << 5) | 0x08);
                            }
                            else
                            {
                                bytes[at++] = 0xC4;
                                bytes[at++] = (byte)(0xE0 | map);
                                bytes[at++] = (byte)((w << 7) | 0x78 | (l << 2) | pp);
                            }

                            bytes[at++] = (byte)opcode;
                            bytes[at++] = modRm;
                            compared += CompareFrom(bytes, at, mismatches);
                        }
                    }
                }
            }
        }

        output.WriteLine($"{compared} instructions compared, {mismatches.Count} mismatches");
        AssertAllAlike(compared, 10_000, mismatches, 10);
    }

    /// <summary>
    /// At least <paramref name="minimum"/> instructions compared and none told apart; the mismatches otherwise, one per
    /// run of the same first <paramref name="groupedBy"/> characters (the same opcode) with its count (each one when 0).
    /// </summary>
    private static void AssertAllAlike(int compared, int minimum, List<string> mismatches, int groupedBy)
    {
        Assert.True(compared > minimum, $"only {compared} instructions");
        var shown = groupedBy == 0 ? mismatches.Take(20)
            : mismatches.GroupBy(m => m[..Math.Min(groupedBy, m.Length)]).Select(g => $"{g.Count()}x {g.First()}").Take(60);
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} mismatches:\n" + string.Join("\n", shown));
    }

    /// <summary>
    /// Fills <paramref name="bytes"/> from <paramref name="at"/> with a fixed pattern (displacements and immediates),
    /// then compares the instruction they start with; 1 when the disassembler decodes one, 0 otherwise.
    /// </summary>
    private static int CompareFrom(byte[] bytes, int at, List<string> mismatches)
    {
        for (var rest = 0; at < bytes.Length; rest++)
        {
            bytes[at++] = (byte)(0x21 + (rest * 0x11));
        }

        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(bytes), Ip);
        decoder.Decode(out var reference);
        if (reference.IsInvalid)
        {
            return 0;
        }

        if (Mismatch(bytes, reference, X64Decoder.TryDecode(bytes, out var instruction), instruction) is { } what)
        {
            mismatches.Add(what);
        }

        return 1;
    }

    private static int CompareReachable(nint body, string name, List<string> mismatches)
    {
        const int limit = 16 * 1024;
        var pending = new Stack<int>([0]);
        var seen = new HashSet<int>();
        var compared = 0;
        var buffer = new byte[16];
        while (pending.Count > 0 && compared < 4000)
        {
            var offset = pending.Pop();
            while (offset is >= 0 and < limit && seen.Add(offset))
            {
                new ReadOnlySpan<byte>((void*)(body + offset), buffer.Length).CopyTo(buffer);
                var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(buffer), (ulong)(body + offset));
                decoder.Decode(out var reference);
                if (reference.IsInvalid)
                {
                    break;
                }

                compared++;
                var ours = X64Decoder.TryDecode(buffer, out var instruction);
                if (Mismatch(buffer, reference, ours, instruction) is { } what)
                {
                    mismatches.Add($"{name}+0x{offset:x}: {what}");
                    break;
                }

                if (reference.FlowControl is FlowControl.ConditionalBranch or FlowControl.UnconditionalBranch && reference.Op0Kind == OpKind.NearBranch64)
                {
                    pending.Push((int)((long)reference.NearBranchTarget - body));
                }

                if (reference.FlowControl is FlowControl.Return or FlowControl.UnconditionalBranch or FlowControl.IndirectBranch or FlowControl.Interrupt or FlowControl.Exception)
                {
                    break;
                }

                offset += reference.Length;
            }
        }

        return compared;
    }

    private static string? Mismatch(byte[] bytes, in Instruction reference, bool ours, in X64Instruction instruction)
    {
        var text = $"{Convert.ToHexString(bytes, 0, reference.Length)} ({reference})";
        if (!ours)
        {
            return $"{text}: refused here";
        }

        if (instruction.Length != reference.Length)
        {
            return $"{text}: length {instruction.Length}, not {reference.Length}";
        }

        var flow = Flow(reference);
        if (instruction.Flow != flow)
        {
            return $"{text}: flow {instruction.Flow}, not {flow}";
        }

        if (instruction.IsRelativeBranch && reference.NearBranchTarget != (ulong)((long)reference.IP + instruction.Length + instruction.Branch))
        {
            return $"{text}: branch to 0x{(long)reference.IP + instruction.Length + instruction.Branch:x}, not 0x{reference.NearBranchTarget:x}";
        }

        var ripRelative = reference.IsIPRelativeMemoryOperand;
        if (ripRelative != instruction.RipDisplacementOffset >= 0)
        {
            return $"{text}: RIP-relative {instruction.RipDisplacementOffset >= 0}, not {ripRelative}";
        }

        var operand = ripRelative ? (long)reference.IP + reference.Length + BitConverter.ToInt32(bytes, instruction.RipDisplacementOffset) : 0;
        if (ripRelative && (long)reference.IPRelativeMemoryAddress != (reference.MemoryBase == Register.EIP ? operand & 0xFFFF_FFFF : operand))
        {
            return $"{text}: RIP-relative displacement read at {instruction.RipDisplacementOffset} is not the operand's";
        }

        return null;
    }

    /// <summary>The disassembler's flow control, in this decoder's terms.</summary>
    private static X64Flow Flow(in Instruction instruction) => instruction.FlowControl switch
    {
        FlowControl.ConditionalBranch => X64Flow.ConditionalBranch,
        FlowControl.UnconditionalBranch when instruction.Op0Kind == OpKind.NearBranch64 => X64Flow.UnconditionalBranch,
        FlowControl.UnconditionalBranch or FlowControl.IndirectBranch => X64Flow.IndirectBranch,
        FlowControl.Call when instruction.Op0Kind == OpKind.NearBranch64 => X64Flow.Call,
        FlowControl.Call or FlowControl.IndirectCall => X64Flow.IndirectCall,
        FlowControl.Return => X64Flow.Return,
        FlowControl.Interrupt => X64Flow.Interrupt,
        FlowControl.Exception => X64Flow.Exception,
        FlowControl.XbeginXabortXend when instruction.Code is Code.Xbegin_rel16 or Code.Xbegin_rel32 => X64Flow.ConditionalBranch,
        _ => X64Flow.Next,
    };

    private static IEnumerable<MethodBase> FrameworkMethods()
    {
        Assembly[] assemblies =
        [
            typeof(object).Assembly, typeof(System.Net.Sockets.Socket).Assembly, typeof(System.Net.Http.HttpClient).Assembly,
            typeof(System.Text.Json.JsonSerializer).Assembly, typeof(System.Linq.Enumerable).Assembly,
            typeof(System.Text.RegularExpressions.Regex).Assembly, typeof(System.Collections.Immutable.ImmutableArray).Assembly,
            typeof(X64).Assembly,
        ];
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var assembly in assemblies)
        {
            Type[] types;
            try
            {
                types = assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException ex)
            {
                types = [.. ex.Types.OfType<Type>()];
            }

            foreach (var type in types.Where(t => !t.ContainsGenericParameters))
            {
                foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
                {
                    if (!method.ContainsGenericParameters && !method.IsAbstract && method.GetMethodBody() is not null)
                    {
                        yield return method;
                    }
                }
            }
        }
    }
}
