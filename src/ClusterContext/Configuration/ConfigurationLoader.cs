using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace ClusterContext.Configuration;

/// <summary>
/// Reads <c>clustercontext.json</c> strictly: an unknown key or a value of the wrong type is an error naming the key's
/// path (e.g. <c>fs.mode</c>), so a typo never silently turns into a default.
/// </summary>
internal static class ConfigurationLoader
{
    public const string FileName = "clustercontext.json";
    public const string ConfigVariable = "CLUSTERCONTEXT_CONFIG";

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Options from the configuration file (if any) and then the <c>CLUSTERCONTEXT_*</c> variables.</summary>
    public static ClusterContextOptions Load(string workingDirectory, IDictionary environment)
    {
        var options = new ClusterContextOptions();
        var path = environment[ConfigVariable] as string;
        if (!string.IsNullOrEmpty(path))
        {
            if (!File.Exists(path))
            {
                throw new ConfigurationException($"{ConfigVariable} names {path}, which does not exist.");
            }
        }
        else
        {
            path = Path.Combine(workingDirectory, FileName);
        }

        if (File.Exists(path))
        {
            Apply(options, File.ReadAllText(path), path);
        }

        ApplyEnvironment(options, environment);
        return options;
    }

    /// <summary>Applies JSON text to <paramref name="options"/>; <paramref name="source"/> names it in errors.</summary>
    public static void Apply(ClusterContextOptions options, string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException($"{source}: not valid JSON at line {ex.LineNumber + 1}: {ex.Message}", ex);
        }

        using (document)
        {
            new Reader(source).Root(document.RootElement, options);
        }
    }

    private static void ApplyEnvironment(ClusterContextOptions options, IDictionary environment)
    {
        string? Get(string key) => environment["CLUSTERCONTEXT_" + key] as string is { Length: > 0 } value ? value : null;

        options.Target = Get("TARGET") ?? options.Target;
        options.Namespace = Get("NAMESPACE") ?? options.Namespace;
        options.Context = Get("CONTEXT") ?? options.Context;
        options.Agent.Address = Get("AGENT_ADDRESS") ?? options.Agent.Address;
        options.Agent.Token = Get("AGENT_TOKEN") ?? options.Agent.Token;
        options.Agent.Image = Get("AGENT_IMAGE") ?? options.Agent.Image;
        if (Get("REQUIRED") is { } required)
        {
            options.Required = bool.TryParse(required, out var value)
                ? value
                : throw new ConfigurationException($"CLUSTERCONTEXT_REQUIRED is '{required}'; expected true or false.");
        }

        if (Get("FS_MODE") is { } mode)
        {
            options.Fs.Mode = Enum.TryParse<FileSystemMode>(mode, ignoreCase: true, out var value)
                ? value
                : throw new ConfigurationException($"CLUSTERCONTEXT_FS_MODE is '{mode}'; expected local, localWithOverrides, read or write.");
        }

        if (Get("AGENT_PORT") is { } port)
        {
            options.Agent.Port = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is > 0 and < 65536
                ? value
                : throw new ConfigurationException($"CLUSTERCONTEXT_AGENT_PORT is '{port}'; expected a port number from 1 to 65535.");
        }

        if (Get("TIMEOUT") is { } timeout)
        {
            options.Timeout = double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
                ? TimeSpan.FromSeconds(seconds)
                : throw new ConfigurationException($"CLUSTERCONTEXT_TIMEOUT is '{timeout}'; expected a positive number of seconds.");
        }
    }

    private sealed class Reader(string source)
    {
        public void Root(JsonElement element, ClusterContextOptions options) => Object(element, "", new()
        {
            ["target"] = (e, p) => options.Target = NullableString(e, p),
            ["namespace"] = (e, p) => options.Namespace = NullableString(e, p),
            ["context"] = (e, p) => options.Context = NullableString(e, p),
            ["required"] = (e, p) => options.Required = Bool(e, p),
            ["timeout"] = (e, p) => options.Timeout = TimeSpan.FromSeconds(PositiveNumber(e, p)),
            ["$schema"] = (e, p) => NullableString(e, p),
            ["agent"] = (e, p) => Object(e, p, new()
            {
                ["address"] = (v, q) => options.Agent.Address = NullableString(v, q),
                ["token"] = (v, q) => options.Agent.Token = NullableString(v, q),
                ["image"] = (v, q) => options.Agent.Image = NullableString(v, q) ?? AgentSettings.DefaultImage,
                ["port"] = (v, q) => options.Agent.Port = v.ValueKind == JsonValueKind.Null ? null : Port(v, q),
                ["startTimeout"] = (v, q) => options.Agent.StartTimeout = TimeSpan.FromSeconds(PositiveNumber(v, q)),
            }),
            ["env"] = (e, p) => Object(e, p, new()
            {
                ["include"] = (v, q) => options.Env.Include = Strings(v, q),
                ["exclude"] = (v, q) => options.Env.Exclude = Strings(v, q),
                ["override"] = (v, q) => options.Env.Override = StringMap(v, q),
                ["unset"] = (v, q) => options.Env.Unset = Strings(v, q),
                ["envFile"] = (v, q) => options.Env.EnvFile = NullableString(v, q),
            }),
            ["fs"] = (e, p) => Object(e, p, new()
            {
                ["mode"] = (v, q) => options.Fs.Mode = Mode(v, q),
                ["readOnly"] = (v, q) => options.Fs.ReadOnly = Patterns(v, q),
                ["readWrite"] = (v, q) => options.Fs.ReadWrite = Patterns(v, q),
                ["local"] = (v, q) => options.Fs.Local = Patterns(v, q),
                ["notFound"] = (v, q) => options.Fs.NotFound = Patterns(v, q),
            }),
            ["network"] = (e, p) => Object(e, p, new()
            {
                ["dns"] = (v, q) => options.Network.Dns = Bool(v, q),
                ["outgoing"] = (v, q) => Object(v, q, new()
                {
                    ["tcp"] = (w, r) => options.Network.Outgoing.Tcp = Bool(w, r),
                    ["udp"] = (w, r) => options.Network.Outgoing.Udp = Bool(w, r),
                    ["default"] = (w, r) => options.Network.Outgoing.Default = OutgoingDefaultValue(w, r),
                    ["remote"] = (w, r) => options.Network.Outgoing.Remote = Strings(w, r),
                    ["local"] = (w, r) => options.Network.Outgoing.Local = Strings(w, r),
                }),
            }),
        });

        private void Object(JsonElement element, string path, Dictionary<string, Action<JsonElement, string>> keys)
        {
            Expect(element, JsonValueKind.Object, path, "an object");
            foreach (var property in element.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                if (!keys.TryGetValue(property.Name, out var read))
                {
                    throw Error(childPath, $"unknown key; expected one of {string.Join(", ", keys.Keys.Where(k => k != "$schema"))}");
                }

                read(property.Value, childPath);
            }
        }

        private string? NullableString(JsonElement element, string path) =>
            element.ValueKind == JsonValueKind.Null ? null : Expect(element, JsonValueKind.String, path, "a string").GetString();

        private bool Bool(JsonElement element, string path) => element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(path, $"expected true or false, got {Describe(element)}"),
        };

        private double PositiveNumber(JsonElement element, string path) =>
            Expect(element, JsonValueKind.Number, path, "a number of seconds").GetDouble() is var value && value > 0 ? value : throw Error(path, "expected a positive number of seconds");

        private int Port(JsonElement element, string path) =>
            Expect(element, JsonValueKind.Number, path, "a port number").TryGetInt32(out var port) && port is > 0 and < 65536 ? port : throw Error(path, "expected a port number from 1 to 65535");

        private List<string> Strings(JsonElement element, string path)
        {
            Expect(element, JsonValueKind.Array, path, "an array of strings");
            return [.. element.EnumerateArray().Select((item, index) => Expect(item, JsonValueKind.String, $"{path}[{index}]", "a string").GetString()!)];
        }

        private List<string> Patterns(JsonElement element, string path)
        {
            var patterns = Strings(element, path);
            for (var i = 0; i < patterns.Count; i++)
            {
                try
                {
                    _ = new System.Text.RegularExpressions.Regex(patterns[i]);
                }
                catch (ArgumentException ex)
                {
                    throw Error($"{path}[{i}]", $"'{patterns[i]}' is not a valid regular expression: {ex.Message}");
                }
            }

            return patterns;
        }

        private Dictionary<string, string> StringMap(JsonElement element, string path)
        {
            Expect(element, JsonValueKind.Object, path, "an object of strings");
            return element.EnumerateObject().ToDictionary(p => p.Name, p => Expect(p.Value, JsonValueKind.String, $"{path}.{p.Name}", "a string").GetString()!, StringComparer.Ordinal);
        }

        private FileSystemMode Mode(JsonElement element, string path) =>
            Enum.TryParse<FileSystemMode>(Expect(element, JsonValueKind.String, path, "a string").GetString(), ignoreCase: true, out var mode) && Enum.IsDefined(mode)
                ? mode
                : throw Error(path, $"'{element.GetString()}' is not a mode; expected local, localWithOverrides, read or write");

        private OutgoingDefault OutgoingDefaultValue(JsonElement element, string path) =>
            Expect(element, JsonValueKind.String, path, "a string").GetString() switch
            {
                "remote" => OutgoingDefault.Remote,
                "local" => OutgoingDefault.Local,
                var other => throw Error(path, $"'{other}' is not a default; expected remote or local"),
            };

        private JsonElement Expect(JsonElement element, JsonValueKind kind, string path, string what) =>
            element.ValueKind == kind ? element : throw Error(path, $"expected {what}, got {Describe(element)}");

        private ConfigurationException Error(string path, string problem) => new($"{source}: {path}: {problem}.");

        private static string Describe(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{element.GetString()}\"",
            JsonValueKind.Number => $"the number {element.GetRawText()}",
            JsonValueKind.True or JsonValueKind.False => $"the boolean {element.GetRawText()}",
            JsonValueKind.Null => "null",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => element.ValueKind.ToString(),
        };
    }
}
