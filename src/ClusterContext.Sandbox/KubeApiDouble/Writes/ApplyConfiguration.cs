using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// The body of <c>application/apply-patch+yaml</c>: YAML (JSON is YAML too: kubectl sends JSON), read into JSON with
/// plain scalars typed as the server's YAML reader types them (true/false, null, numbers; quoted ones stay strings).
/// </summary>
internal static class ApplyConfiguration
{
    public static JsonObject Parse(string body)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(body));
        }
        catch (YamlException ex)
        {
            throw PatchException.BadRequest($"error decoding YAML: {ex.Message}");
        }

        if (stream.Documents.Count != 1 || ToJson(stream.Documents[0].RootNode) is not JsonObject applied)
        {
            throw PatchException.BadRequest("error decoding YAML: the body must be one object");
        }

        return applied;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => throw PatchException.BadRequest("error decoding YAML: aliases are not supported"),
    };

    private static JsonValue? Plain(string text) => text switch
    {
        "" or "~" or "null" or "Null" or "NULL" => null,
        "true" or "True" or "TRUE" => JsonValue.Create(true),
        "false" or "False" or "FALSE" => JsonValue.Create(false),
        _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) => JsonValue.Create(integer),
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
        _ => JsonValue.Create(text),
    };
}
