using ClusterContext.Patching.Internal;

namespace ClusterContext.Tests.Patching;

/// <summary>
/// First instructions that cannot be copied as they are (a RIP-relative load, a short conditional branch, a relative
/// call) are relocated into a trampoline that runs as the body would: the trampoline and the body give the same results.
/// </summary>
public sealed unsafe class TrampolineRelocationTests
{
    [Fact]
    public void A_RIP_relative_load_and_a_short_branch_among_the_first_bytes_run_from_the_trampoline_as_in_the_body()
    {
        // 0: mov rax, [rip+0x39] (the constant at 0x40); 7: test edi, edi; 9: jne 0x20; 11: add rax, 1; 15: ret;
        // 0x20: add rax, 100; ret. 0x40: 1000.
        var code = new byte[0x48];
        ((ReadOnlySpan<byte>)[0x48, 0x8B, 0x05, 0x39, 0x00, 0x00, 0x00, 0x85, 0xFF, 0x75, 0x15, 0x48, 0x83, 0xC0, 0x01, 0xC3]).CopyTo(code);
        ((ReadOnlySpan<byte>)[0x48, 0x83, 0xC0, 0x64, 0xC3]).CopyTo(code.AsSpan(0x20));
        BitConverter.GetBytes(1000L).CopyTo(code, 0x40);
        var body = CodeMemory.Allocate(0, code.Length);
        CodeMemory.WriteOwn(body, code);

        Assert.Equal(0, PrologueCopier.CoveredLength(code, X64.AbsoluteJumpLength));
        Assert.Equal(15, X64.CoveredLength(code, X64.AbsoluteJumpLength));
        var size = X64.MaxTrampolineLength(15);
        var trampoline = CodeMemory.Allocate(body, size);
        var relocated = X64.BuildTrampoline(code.AsSpan(0, 32), body, X64.AbsoluteJumpLength, trampoline, "test");
        Assert.InRange(relocated.Length, 15, size);
        CodeMemory.WriteOwn(trampoline, relocated);

        var original = (delegate* unmanaged<int, long>)body;
        var moved = (delegate* unmanaged<int, long>)trampoline;
        Assert.Equal(1001, original(0));
        Assert.Equal(1100, original(1));
        Assert.Equal(original(0), moved(0));
        Assert.Equal(original(1), moved(1));
    }

    [Fact]
    public void A_relative_call_among_the_first_bytes_returns_into_the_trampoline()
    {
        // 0: call 0x30; 5: add eax, 1; 8: nop dword [rax+rax]; 13: nop; 14: add eax, 10; 17: ret. 0x30: mov eax, 7; ret.
        var code = new byte[0x40];
        ((ReadOnlySpan<byte>)[0xE8, 0x2B, 0x00, 0x00, 0x00, 0x83, 0xC0, 0x01, 0x0F, 0x1F, 0x44, 0x00, 0x00, 0x90, 0x83, 0xC0, 0x0A, 0xC3]).CopyTo(code);
        ((ReadOnlySpan<byte>)[0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3]).CopyTo(code.AsSpan(0x30));
        var body = CodeMemory.Allocate(0, code.Length);
        CodeMemory.WriteOwn(body, code);

        // Far from the body on purpose: the call goes through an absolute address.
        var trampoline = CodeMemory.Allocate(0, X64.MaxTrampolineLength(14));
        var relocated = X64.BuildTrampoline(code.AsSpan(0, 32), body, X64.AbsoluteJumpLength, trampoline, "test");
        CodeMemory.WriteOwn(trampoline, relocated);

        Assert.Equal(18, ((delegate* unmanaged<int>)body)());
        Assert.Equal(18, ((delegate* unmanaged<int>)trampoline)());
    }

    [Fact]
    public void A_body_that_returns_before_the_jump_would_end_is_refused()
    {
        byte[] code = [0x48, 0x8B, 0x05, 0x00, 0x00, 0x00, 0x00, 0xC3, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC];
        var error = Assert.Throws<PatchException>(() => X64.BuildTrampoline(code, 0x10000, X64.AbsoluteJumpLength, 0x20000, "Short"));
        Assert.Contains("shorter than the 14-byte jump", error.Message, StringComparison.Ordinal);
    }
}
