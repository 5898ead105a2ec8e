using System.Text.Json.Serialization;

namespace ClusterContext.Cli.Targets;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(TargetList))]
internal sealed partial class TargetsJson : JsonSerializerContext;
