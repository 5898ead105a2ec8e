using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ClusterContext.Cli.Ide;

/// <summary>Reads and writes the IDEs' JSON files as they allow them (comments, trailing commas), keeping what they hold.</summary>
internal static class JsonFiles
{
    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The file's object, or <paramref name="empty"/> when there is no file yet.</summary>
    public static JsonObject Read(string path, Func<JsonObject> empty)
    {
        if (!File.Exists(path))
        {
            return empty();
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path), documentOptions: Lenient) as JsonObject
                ?? throw new CliException($"{path} does not hold a JSON object; fix or remove it.", ExitCodes.Failed);
        }
        catch (JsonException ex)
        {
            throw new CliException($"{path} is not valid JSON ({ex.Message}); fix or remove it, and run this again.", ExitCodes.Failed, ex);
        }
    }

    public static void Write(string path, JsonObject value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".clusterctx-tmp";
        File.WriteAllText(temporary, value.ToJsonString(Indented) + "\n");
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The object under <paramref name="key"/>, made if missing.</summary>
    public static JsonObject Child(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject child)
        {
            return child;
        }

        child = [];
        parent[key] = child;
        return child;
    }
}
