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

    /// <summary>
    /// Applies a configuration section shaped as JSON (the <c>ClusterContext</c> section of an app's
    /// <c>IConfiguration</c>): the same keys and checks as the file, except that every value may be text, as
    /// configuration providers hold them (<c>"true"</c>, <c>"10"</c>), and an empty value is an empty list.
    /// </summary>
    public static void ApplyConfiguration(ClusterContextOptions options, JsonElement section, string source) =>
        new Reader(source, text: true).Root(section, options);

    /// <summary>Applies the <c>CLUSTERCONTEXT_*</c> variables of <paramref name="environment"/> over <paramref name="options"/>.</summary>
    public static void ApplyEnvironment(ClusterContextOptions options, IDictionary environment)
    {
        string? Get(string key) => environment["CLUSTERCONTEXT_" + key] as string is { Length: > 0 } value ? value : null;

        options.Target = Get("TARGET") ?? options.Target;
        options.Namespace = Get("NAMESPACE") ?? options.Namespace;
        options.Context = Get("CONTEXT") ?? options.Context;
        options.Agent.Address = Get("AGENT_ADDRESS") ?? options.Agent.Address;
        options.Agent.Token = Get("AGENT_TOKEN") ?? options.Agent.Token;
        options.Agent.Image = Get("AGENT_IMAGE") ?? options.Agent.Image;
        options.Session.Name = Get("SESSION") ?? options.Session.Name;
        if (Get("SESSION_SHARED") is { } shared)
        {
            options.Session.Shared = bool.TryParse(shared, out var value)
                ? value
                : throw new ConfigurationException($"CLUSTERCONTEXT_SESSION_SHARED is '{shared}'; expected true or false.");
        }

        if (Get("SESSION_LINGER") is { } linger)
        {
            options.Session.Linger = double.TryParse(linger, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
                ? TimeSpan.FromSeconds(seconds)
                : throw new ConfigurationException($"CLUSTERCONTEXT_SESSION_LINGER is '{linger}'; expected a number of seconds (0 or more).");
        }

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

        if (Get("INCOMING_MODE") is { } incoming)
        {
            options.Network.Incoming.Mode = IncomingModes.Parse(incoming)
                ?? throw new ConfigurationException($"CLUSTERCONTEXT_INCOMING_MODE is '{incoming}'; expected off, mirror or steal.");
        }

        if (Get("INCOMING_HEADER") is { } header)
        {
            // The variable replaces the file's whole filter: one header is what a developer sets from a shell.
            options.Network.Incoming.HttpFilter = RegexCheck.Validate(header) is { } problem
                ? throw new ConfigurationException($"CLUSTERCONTEXT_INCOMING_HEADER is '{header}', which is not a valid regular expression: {problem}.")
                : new HttpFilterSettings { Header = header };
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

    private sealed class Reader(string source, bool text = false)
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
            ["session"] = (e, p) => Object(e, p, new()
            {
                ["name"] = (v, q) => options.Session.Name = NullableString(v, q),
                ["linger"] = (v, q) => options.Session.Linger = TimeSpan.FromSeconds(NonNegativeNumber(v, q)),
                ["shared"] = (v, q) => options.Session.Shared = Bool(v, q),
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
                ["incoming"] = (v, q) => Object(v, q, new()
                {
                    ["mode"] = (w, r) => options.Network.Incoming.Mode = IncomingModeValue(w, r),
                    ["ports"] = (w, r) => options.Network.Incoming.Ports = Ports(w, r),
                    ["portMapping"] = (w, r) => options.Network.Incoming.PortMapping = PortMap(w, r),
                    ["ignorePorts"] = (w, r) => options.Network.Incoming.IgnorePorts = Ports(w, r),
                    ["httpFilter"] = (w, r) => options.Network.Incoming.HttpFilter = w.ValueKind == JsonValueKind.Null ? null : TopFilter(w, r),
                }),
            }),
        });

        private void Object(JsonElement element, string path, Dictionary<string, Action<JsonElement, string>> keys)
        {
            if (EmptyText(element))
            {
                return;
            }

            Expect(element, JsonValueKind.Object, path, "an object");
            foreach (var property in element.EnumerateObject())
            {
                var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                // Configuration keys are case-insensitive (an appsettings file says "Target" as often as "target").
                var read = keys.GetValueOrDefault(property.Name)
                    ?? (text ? keys.FirstOrDefault(k => string.Equals(k.Key, property.Name, StringComparison.OrdinalIgnoreCase)).Value : null);
                if (read is null)
                {
                    throw Error(childPath, $"unknown key; expected one of {string.Join(", ", keys.Keys.Where(k => k != "$schema"))}");
                }

                read(property.Value, childPath);
            }
        }

        private string? NullableString(JsonElement element, string path) =>
            element.ValueKind == JsonValueKind.Null || EmptyText(element) ? null : Expect(element, JsonValueKind.String, path, "a string").GetString();

        private bool Bool(JsonElement element, string path) => element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when text && bool.TryParse(element.GetString(), out var value) => value,
            _ => throw Error(path, $"expected true or false, got {Describe(element)}"),
        };

        private double PositiveNumber(JsonElement element, string path) =>
            Number(element, path, "a number of seconds") is var value && value > 0 ? value : throw Error(path, "expected a positive number of seconds");

        private double NonNegativeNumber(JsonElement element, string path) =>
            Number(element, path, "a number of seconds") is var value && value >= 0 ? value : throw Error(path, "expected a number of seconds, 0 or more");

        private int Port(JsonElement element, string path) =>
            Number(element, path, "a port number") is var number && number == Math.Floor(number) && number is > 0 and < 65536 && (int)number is var port ? port : throw Error(path, "expected a port number from 1 to 65535");

        /// <summary>A number, or in text mode its invariant text.</summary>
        private double Number(JsonElement element, string path, string what) =>
            text && element.ValueKind == JsonValueKind.String
                ? double.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw Error(path, $"expected {what}, got {Describe(element)}")
                : Expect(element, JsonValueKind.Number, path, what).GetDouble();

        /// <summary>Configuration holds an empty list or object as an empty (or null) value.</summary>
        private bool EmptyText(JsonElement element) =>
            text && (element.ValueKind == JsonValueKind.Null || (element.ValueKind == JsonValueKind.String && element.GetString()!.Length == 0));

        private List<string> Strings(JsonElement element, string path)
        {
            if (EmptyText(element))
            {
                return [];
            }

            Expect(element, JsonValueKind.Array, path, "an array of strings");
            return [.. element.EnumerateArray().Select((item, index) => Expect(item, JsonValueKind.String, $"{path}[{index}]", "a string").GetString()!)];
        }

        private List<string> Patterns(JsonElement element, string path)
        {
            var patterns = Strings(element, path);
            for (var i = 0; i < patterns.Count; i++)
            {
                if (RegexCheck.Validate(patterns[i]) is { } problem)
                {
                    throw Error($"{path}[{i}]", $"'{patterns[i]}' is not a valid regular expression: {problem}");
                }
            }

            return patterns;
        }

        private List<int> Ports(JsonElement element, string path)
        {
            if (EmptyText(element))
            {
                return [];
            }

            Expect(element, JsonValueKind.Array, path, "an array of port numbers");
            return [.. element.EnumerateArray().Select((item, index) => Port(item, $"{path}[{index}]"))];
        }

        private Dictionary<int, int> PortMap(JsonElement element, string path)
        {
            if (EmptyText(element))
            {
                return [];
            }

            Expect(element, JsonValueKind.Object, path, "an object of local port to pod port");
            var map = new Dictionary<int, int>();
            foreach (var property in element.EnumerateObject())
            {
                var childPath = $"{path}.{property.Name}";
                if (property.Name.StartsWith('0') || !int.TryParse(property.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var local) || local is < 1 or > 65535)
                {
                    throw Error(childPath, "the key must be a local port number from 1 to 65535");
                }

                map[local] = Port(property.Value, childPath);
            }

            return map;
        }

        private HttpFilterSettings TopFilter(JsonElement element, string path)
        {
            var filter = Filter(element, path, 1);
            // Several conditions on one object become an allOf node on the wire, so the wire's tree can be deeper than the file's.
            return HttpFilterConversion.Depth(HttpFilterConversion.ToProtocol(filter)!) > Protocol.Messages.HttpFilter.MaxDepth + 1
                ? throw Error(path, $"filters nest too deep: at most {Protocol.Messages.HttpFilter.MaxDepth + 1} levels, counting an object with several conditions as one more")
                : filter;
        }

        private HttpFilterSettings Filter(JsonElement element, string path, int depth)
        {
            if (depth > Protocol.Messages.HttpFilter.MaxDepth + 1)
            {
                throw Error(path, $"filters nest deeper than {Protocol.Messages.HttpFilter.MaxDepth + 1} levels");
            }

            var filter = new HttpFilterSettings();
            List<HttpFilterSettings> Filters(JsonElement e, string p)
            {
                Expect(e, JsonValueKind.Array, p, "an array of filters");
                return [.. e.EnumerateArray().Select((item, index) => Filter(item, $"{p}[{index}]", depth + 1))];
            }

            Object(element, path, new()
            {
                ["header"] = (v, q) => filter.Header = Regex(v, q),
                ["path"] = (v, q) => filter.Path = Regex(v, q),
                ["method"] = (v, q) => filter.Method = Regex(v, q),
                ["allOf"] = (v, q) => filter.AllOf = Filters(v, q),
                ["anyOf"] = (v, q) => filter.AnyOf = Filters(v, q),
            });
            if (filter.Header is null && filter.Path is null && filter.Method is null && filter.AllOf.Count == 0 && filter.AnyOf.Count == 0)
            {
                throw Error(path, "an empty filter; set header, path, method, allOf or anyOf (or leave httpFilter out to take the whole port)");
            }

            return filter;
        }

        private string Regex(JsonElement element, string path)
        {
            var pattern = Expect(element, JsonValueKind.String, path, "a regular expression").GetString()!;
            return RegexCheck.Validate(pattern) is { } problem
                ? throw Error(path, $"'{pattern}' is not a valid regular expression: {problem}")
                : pattern;
        }

        private IncomingTrafficMode IncomingModeValue(JsonElement element, string path) =>
            IncomingModes.Parse(Expect(element, JsonValueKind.String, path, "a string").GetString()!)
            ?? throw Error(path, $"'{element.GetString()}' is not a mode; expected off, mirror or steal");

        private Dictionary<string, string> StringMap(JsonElement element, string path)
        {
            if (EmptyText(element))
            {
                return new(StringComparer.Ordinal);
            }

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
