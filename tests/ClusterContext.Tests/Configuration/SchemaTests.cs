using System.Text.Json;
using ClusterContext.Configuration;

namespace ClusterContext.Tests.Configuration;

public class SchemaTests
{
    private static readonly string SchemaPath = Path.Combine(AppContext.BaseDirectory, "clustercontext.schema.json");

    [Fact]
    public void The_schema_names_exactly_the_keys_the_loader_accepts()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(SchemaPath));
        var keys = new List<string>();
        Collect(schema.RootElement, "", keys);

        // Every key the schema documents is accepted by the loader...
        foreach (var key in keys)
        {
            var json = Nest(key);
            ConfigurationLoader.Apply(new ClusterContextOptions(), json, "schema-check.json");
        }

        // ...and a key the schema does not have is refused.
        Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Apply(new ClusterContextOptions(), Nest("fs.notAKey"), "schema-check.json"));
        Assert.Contains("fs.mode", keys);
        Assert.Contains("network.outgoing.remote", keys);
        Assert.Contains("network.outgoing.default", keys);
        Assert.Contains("env.envFile", keys);
        Assert.Contains("network.incoming.httpFilter.anyOf", keys);
        Assert.Contains("network.incoming.portMapping", keys);
        Assert.Contains("session.linger", keys);
    }

    private static void Collect(JsonElement node, string path, List<string> keys)
    {
        if (!node.TryGetProperty("properties", out var properties))
        {
            return;
        }

        foreach (var property in properties.EnumerateObject().Where(p => p.Name != "$schema"))
        {
            var childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
            if (property.Value.TryGetProperty("properties", out _))
            {
                Collect(property.Value, childPath, keys);
            }
            else
            {
                keys.Add(childPath);
            }
        }
    }

    /// <summary>A configuration with a valid sample value at <paramref name="key"/>.</summary>
    private static string Nest(string key)
    {
        var parts = key.Split('.');
        var leaf = parts[^1];
        var value = key switch
        {
            "network.incoming.mode" => "\"steal\"",
            "network.incoming.ports" or "network.incoming.ignorePorts" => "[8080]",
            "network.incoming.portMapping" => "{ \"5000\": 8080 }",
            "network.incoming.httpFilter.allOf" or "network.incoming.httpFilter.anyOf" => "[{ \"header\": \"^x-dev: a$\" }]",
            _ => null,
        } ?? leaf switch
        {
            "required" or "dns" or "tcp" or "udp" or "shared" => "true",
            "timeout" or "startTimeout" or "linger" => "3",
            "port" => "47471",
            "mode" => "\"read\"",
            "default" => "\"local\"",
            "override" => "{}",
            "include" or "exclude" or "unset" or "readOnly" or "readWrite" or "local" or "notFound" or "remote" => "[]",
            _ => "\"x\"",
        };
        var json = $"\"{leaf}\": {value}";
        for (var i = parts.Length - 2; i >= 0; i--)
        {
            json = $"\"{parts[i]}\": {{ {json} }}";
        }

        return "{ " + json + " }";
    }
}
