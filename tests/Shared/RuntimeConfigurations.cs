namespace ClusterContext.Testing;

/// <summary>
/// The runtime configurations that change how and when methods are compiled and re-compiled (the knobs are read
/// at start-up, so each runs in a child process): the patching tests run under every one.
/// </summary>
public static class RuntimeConfigurations
{
    /// <summary>Call counting from the second call: tier-ups queued within milliseconds, around any install.</summary>
    public const string ImmediateCallCounting = "DOTNET_TC_CallCountingDelayMs=0";

    public static TheoryData<string> All =>
    [
        "default",
        "DOTNET_TieredCompilation=0",
        ImmediateCallCounting,
        "DOTNET_TieredPGO=0",
        "DOTNET_ReadyToRun=0",
        "DOTNET_TC_OnStackReplacement_InitialCounter=1 DOTNET_OSR_HitLimit=1",
        "DOTNET_EnableWriteXorExecute=0",
    ];

    /// <summary>The variables a configuration sets ("default" sets none).</summary>
    public static Dictionary<string, string> Variables(string configuration) =>
        configuration.Split(' ')
            .Where(s => s.Contains('=', StringComparison.Ordinal))
            .ToDictionary(s => s[..s.IndexOf('=', StringComparison.Ordinal)], s => s[(s.IndexOf('=', StringComparison.Ordinal) + 1)..]);
}
