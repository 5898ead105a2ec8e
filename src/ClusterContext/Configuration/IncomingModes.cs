namespace ClusterContext.Configuration;

/// <summary>The spellings of <see cref="IncomingTrafficMode"/> in the file and the environment.</summary>
internal static class IncomingModes
{
    public static IncomingTrafficMode? Parse(string value) => value.ToLowerInvariant() switch
    {
        "off" => IncomingTrafficMode.Off,
        "mirror" => IncomingTrafficMode.Mirror,
        "steal" => IncomingTrafficMode.Steal,
        _ => null,
    };
}
