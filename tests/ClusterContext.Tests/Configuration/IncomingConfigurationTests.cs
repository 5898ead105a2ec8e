using System.Collections;
using System.Diagnostics;
using ClusterContext.Configuration;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Tests.Configuration;

public class IncomingConfigurationTests
{
    [Fact]
    public void The_issues_example_is_read_and_converted_to_the_protocols_filter_tree()
    {
        var options = new ClusterContextOptions();
        ConfigurationLoader.Apply(options, """
            { "network": { "incoming": {
              "mode": "steal", "ports": [8080], "portMapping": { "5000": 8080 }, "ignorePorts": [9090],
              "httpFilter": { "header": "^x-dev: alice$", "path": "^/api/", "method": "GET",
                "allOf": [ { "path": "^/api/v2/" } ], "anyOf": [ { "header": "^x-a: 1$" }, { "method": "POST" } ] } } } }
            """, "test.json");

        var incoming = options.Network.Incoming;
        Assert.Equal(IncomingTrafficMode.Steal, incoming.Mode);
        Assert.Equal([8080], incoming.Ports);
        Assert.Equal(8080, incoming.PortMapping[5000]);
        Assert.Equal([9090], incoming.IgnorePorts);

        var filter = HttpFilterConversion.ToProtocol(incoming.HttpFilter);
        HttpFilter Leaf(HttpFilterKind kind, string pattern) => new(kind, pattern, []);
        Assert.Equal(
            new HttpFilter(HttpFilterKind.AllOf, "",
            [
                Leaf(HttpFilterKind.Header, "^x-dev: alice$"),
                Leaf(HttpFilterKind.Path, "^/api/"),
                Leaf(HttpFilterKind.Method, "GET"),
                Leaf(HttpFilterKind.Path, "^/api/v2/"),
                new HttpFilter(HttpFilterKind.AnyOf, "", [Leaf(HttpFilterKind.Header, "^x-a: 1$"), Leaf(HttpFilterKind.Method, "POST")]),
            ]),
            filter);
    }

    [Fact]
    public void Defaults_are_off_with_no_filter_and_a_single_condition_is_a_leaf()
    {
        var defaults = new ClusterContextOptions().Network.Incoming;
        Assert.Equal(IncomingTrafficMode.Off, defaults.Mode);
        Assert.Empty(defaults.Ports);
        Assert.Null(HttpFilterConversion.ToProtocol(defaults.HttpFilter));

        var options = new ClusterContextOptions();
        ConfigurationLoader.Apply(options, """{ "network": { "incoming": { "mode": "mirror", "httpFilter": { "header": "^x-dev: bob$" } } } }""", "t.json");
        Assert.Equal(IncomingTrafficMode.Mirror, options.Network.Incoming.Mode);
        Assert.Equal(new HttpFilter(HttpFilterKind.Header, "^x-dev: bob$", []), HttpFilterConversion.ToProtocol(options.Network.Incoming.HttpFilter));
    }

    [Theory]
    [InlineData("""{ "network": { "incoming": { "mode": "intercept" } } }""", "test.json: network.incoming.mode: 'intercept' is not a mode; expected off, mirror or steal")]
    [InlineData("""{ "network": { "incoming": { "mod": "steal" } } }""", "test.json: network.incoming.mod: unknown key")]
    [InlineData("""{ "network": { "incoming": { "ports": [8080, "80"] } } }""", "test.json: network.incoming.ports[1]: expected a port number, got the string \"80\"")]
    [InlineData("""{ "network": { "incoming": { "ignorePorts": [70000] } } }""", "test.json: network.incoming.ignorePorts[0]: expected a port number from 1 to 65535")]
    [InlineData("""{ "network": { "incoming": { "portMapping": { "five": 8080 } } } }""", "test.json: network.incoming.portMapping.five: the key must be a local port number")]
    [InlineData("""{ "network": { "incoming": { "portMapping": { "5000": "8080" } } } }""", "test.json: network.incoming.portMapping.5000: expected a port number, got the string \"8080\"")]
    [InlineData("""{ "network": { "incoming": { "httpFilter": { "header": "(x-dev" } } } }""", "test.json: network.incoming.httpFilter.header: '(x-dev' is not a valid regular expression: ")]
    [InlineData("""{ "network": { "incoming": { "httpFilter": { "anyOf": [ { "path": "[a-" } ] } } } }""", "test.json: network.incoming.httpFilter.anyOf[0].path: '[a-' is not a valid regular expression")]
    [InlineData("""{ "network": { "incoming": { "httpFilter": { "headers": "x" } } } }""", "test.json: network.incoming.httpFilter.headers: unknown key")]
    [InlineData("""{ "network": { "incoming": { "httpFilter": { "allOf": [ {} ] } } } }""", "test.json: network.incoming.httpFilter.allOf[0]: an empty filter")]
    [InlineData("""{ "network": { "incoming": { "httpFilter": { "allOf": { "path": "x" } } } } }""", "test.json: network.incoming.httpFilter.allOf: expected an array of filters, got an object")]
    [InlineData("""{ "network": { "incoming": { "httpFilter": "^x-dev: a$" } } }""", "test.json: network.incoming.httpFilter: expected an object, got the string")]
    public void Wrong_incoming_settings_name_the_keys_path(string json, string message)
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Apply(new ClusterContextOptions(), json, "test.json"));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Filters_nested_deeper_than_the_protocol_carries_are_refused_at_load()
    {
        string Nested(int levels) => levels == 1 ? """{ "path": "^/" }""" : $$"""{ "anyOf": [ {{Nested(levels - 1)}} ] }""";

        ConfigurationLoader.Apply(new ClusterContextOptions(), $$"""{ "network": { "incoming": { "httpFilter": {{Nested(HttpFilter.MaxDepth + 1)}} } } }""", "t.json");
        var error = Assert.Throws<ConfigurationException>(() =>
            ConfigurationLoader.Apply(new ClusterContextOptions(), $$"""{ "network": { "incoming": { "httpFilter": {{Nested(HttpFilter.MaxDepth + 2)}} } } }""", "t.json"));
        Assert.Contains("network.incoming.httpFilter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variables_set_the_mode_and_replace_the_filter_with_one_header()
    {
        var directory = Directory.CreateTempSubdirectory("clustercontext-incoming-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "clustercontext.json"), """{ "network": { "incoming": { "mode": "mirror", "httpFilter": { "path": "^/api/" } } } }""");
            var environment = new Hashtable { ["CLUSTERCONTEXT_INCOMING_MODE"] = "Steal", ["CLUSTERCONTEXT_INCOMING_HEADER"] = "^x-dev: carol$" };
            var options = ConfigurationLoader.Load(directory, environment);
            Assert.Equal(IncomingTrafficMode.Steal, options.Network.Incoming.Mode);
            Assert.Equal(new HttpFilter(HttpFilterKind.Header, "^x-dev: carol$", []), HttpFilterConversion.ToProtocol(options.Network.Incoming.HttpFilter));

            environment["CLUSTERCONTEXT_INCOMING_MODE"] = "intercept";
            Assert.Contains("CLUSTERCONTEXT_INCOMING_MODE is 'intercept'", Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(directory, environment)).Message, StringComparison.Ordinal);

            environment["CLUSTERCONTEXT_INCOMING_MODE"] = "off";
            environment["CLUSTERCONTEXT_INCOMING_HEADER"] = "^x-dev: (carol$";
            var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(directory, environment));
            Assert.Contains("CLUSTERCONTEXT_INCOMING_HEADER is '^x-dev: (carol$', which is not a valid regular expression", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The schema and the loader agree on what is valid, judged by Debian's python3-jsonschema (a validator this project did not write).</summary>
    [Theory]
    [InlineData("""{ "network": { "incoming": { "mode": "steal", "ports": [8080], "portMapping": { "5000": 8080 }, "ignorePorts": [9090], "httpFilter": { "header": "^x$", "anyOf": [ { "path": "^/a" }, { "allOf": [ { "method": "GET" } ] } ] } } } }""", true)]
    [InlineData("""{ "network": { "incoming": { "mode": "intercept" } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "ports": [0] } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "ports": ["8080"] } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "portMapping": { "x": 8080 } } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "portMapping": { "5000": 0 } } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "portMapping": { "05000": 8080 } } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "portMapping": { "65535": 8080, "1": 1 } } } }""", true)]
    [InlineData("""{ "network": { "incoming": { "httpFilter": {} } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "httpFilter": { "anyOf": [ { "heder": "x" } ] } } } }""", false)]
    [InlineData("""{ "network": { "incoming": { "httpFilter": null } } }""", true)]
    [InlineData("""{ "network": { "incoming": { "extra": 1 } } }""", false)]
    public async Task The_schema_and_the_loader_agree(string json, bool valid)
    {
        var loaderAccepts = true;
        try
        {
            ConfigurationLoader.Apply(new ClusterContextOptions(), json, "t.json");
        }
        catch (ConfigurationException)
        {
            loaderAccepts = false;
        }

        var schema = Path.Combine(AppContext.BaseDirectory, "clustercontext.schema.json");
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", "import json,sys,jsonschema; s=json.load(open(sys.argv[1])); v=jsonschema.Draft7Validator(s); print('valid' if v.is_valid(json.loads(sys.argv[2])) else 'invalid')", schema, json])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var python = Process.Start(start)!;
        var output = (await python.StandardOutput.ReadToEndAsync()).Trim();
        var errors = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, errors);

        Assert.Equal(valid ? "valid" : "invalid", output);
        Assert.Equal(valid, loaderAccepts);
    }
}
