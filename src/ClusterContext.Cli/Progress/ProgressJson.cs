using System.Text.Json.Serialization;

namespace ClusterContext.Cli.Progress;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ProgressLine))]
internal sealed partial class ProgressJson : JsonSerializerContext;
