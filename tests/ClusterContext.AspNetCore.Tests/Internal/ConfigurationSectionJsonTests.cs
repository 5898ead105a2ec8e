using System.Text;
using System.Text.Json;
using ClusterContext.AspNetCore.Internal;
using ClusterContext.Configuration;
using Microsoft.Extensions.Configuration;

namespace ClusterContext.AspNetCore.Tests.Internal;

/// <summary>
/// The ClusterContext configuration section read through clustercontext.json's own reader: the same JSON as a
/// clustercontext.json file and as an appsettings section (through the real JSON configuration provider, and as
/// environment variables) gives the same options, and the section's mistakes get the file's messages.
/// </summary>
public sealed class ConfigurationSectionJsonTests
{
    private const string Options = """
        {
          "target": "deployment/orders/container/app",
          "namespace": "shop",
          "required": false,
          "timeout": 2.5,
          "agent": { "port": 45000, "startTimeout": 30, "image": "registry.local/agent:1" },
          "env": { "include": ["ORDERS_*", "SERVICE_NAME"], "exclude": [], "override": { "A": "1", "B": "two" }, "unset": ["X"] },
          "fs": { "mode": "read", "local": ["^/tmp/.*"], "notFound": [] },
          "network": {
            "dns": true,
            "outgoing": { "udp": false, "default": "local", "remote": ["redis:6379"] },
            "incoming": { "mode": "steal", "portMapping": { "5080": 8080 }, "ignorePorts": [9090],
              "httpFilter": { "anyOf": [ { "header": "^x-dev: alice$" }, { "path": "^/alice/", "method": "GET" } ] } }
          }
        }
        """;

    [Fact]
    public void An_appsettings_section_gives_the_same_options_as_the_same_json_in_clustercontext_json()
    {
        var fromFile = new ClusterContextOptions();
        ConfigurationLoader.Apply(fromFile, Options, "clustercontext.json");

        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""{ "ClusterContext": {{Options}} }""")))
            .Build();
        var fromSection = new ClusterContextOptions();
        ConfigurationLoader.ApplyConfiguration(fromSection, ConfigurationSectionJson.ToJson(configuration.GetSection("ClusterContext"), []), "section");

        Assert.Equal(Serialize(fromFile), Serialize(fromSection));
        Assert.Equal(2.5, fromSection.Timeout.TotalSeconds);
        Assert.Equal(["ORDERS_*", "SERVICE_NAME"], fromSection.Env.Include);
        Assert.Empty(fromSection.Env.Exclude);
    }

    [Fact]
    public void Keys_set_as_environment_variables_with_any_case_reach_the_options()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // What ClusterContext__Target=... and ClusterContext__network__incoming__portMapping__5080=8080 become.
            ["ClusterContext:Target"] = "pod/orders-1",
            ["ClusterContext:Required"] = "False",
            ["ClusterContext:network:incoming:mode"] = "mirror",
            ["ClusterContext:network:incoming:portMapping:5080"] = "8080",
            ["ClusterContext:network:incoming:ports:0"] = "8080",
            ["ClusterContext:network:incoming:ports:1"] = "8081",
            ["ClusterContext:enabled"] = "true",
        }).Build();
        var options = new ClusterContextOptions();
        ConfigurationLoader.ApplyConfiguration(options, ConfigurationSectionJson.ToJson(configuration.GetSection("ClusterContext"), ["enabled"]), "section");

        Assert.Equal("pod/orders-1", options.Target);
        Assert.False(options.Required);
        Assert.Equal(IncomingTrafficMode.Mirror, options.Network.Incoming.Mode);
        Assert.Equal(8080, options.Network.Incoming.PortMapping[5080]);
        Assert.Equal([8080, 8081], options.Network.Incoming.Ports);
    }

    [Theory]
    [InlineData("fs:mode", "fast", "section: fs.mode: 'fast' is not a mode; expected local, localWithOverrides, read or write.")]
    [InlineData("required", "yes", "section: required: expected true or false, got the string \"yes\".")]
    [InlineData("timeout", "soon", "section: timeout: expected a number of seconds, got the string \"soon\".")]
    [InlineData("agent:port", "70000", "section: agent.port: expected a port number from 1 to 65535.")]
    [InlineData("network:incomming:mode", "steal", "section: network.incomming: unknown key; expected one of dns, outgoing, incoming.")]
    public void A_mistake_in_the_section_is_the_files_error_naming_the_key(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ClusterContext:" + key] = value }).Build();
        var error = Assert.Throws<ConfigurationException>(() =>
            ConfigurationLoader.ApplyConfiguration(new ClusterContextOptions(), ConfigurationSectionJson.ToJson(configuration.GetSection("ClusterContext"), []), "section"));
        Assert.Equal(message, error.Message);
    }

    private static string Serialize(ClusterContextOptions options) => JsonSerializer.Serialize(options);
}
