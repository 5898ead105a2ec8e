using System.Collections;
using ClusterContext.Configuration;

namespace ClusterContext.Tests.Configuration;

public class ConfigurationLoaderTests
{
    [Fact]
    public void Every_key_of_the_documented_example_is_read()
    {
        var options = new ClusterContextOptions();
        ConfigurationLoader.Apply(options, """
            {
              "target": "deployment/orders", // comments and trailing commas are fine
              "namespace": "shop", "context": "dev",
              "agent": { "address": "10.0.0.5:7777", "token": "t" },
              "env": { "include": ["*"], "exclude": ["PATH", "HOME"], "override": { "LOG_LEVEL": "Debug" }, "unset": ["X"], "envFile": null },
              "fs": { "mode": "localWithOverrides", "readOnly": ["^/etc/config/"], "readWrite": [], "local": ["^/tmp/"], "notFound": [] },
              "network": { "dns": false, "outgoing": { "tcp": true, "udp": false, "default": "local", "remote": ["10.96.0.0/12"], "local": [] } },
              "session": { "name": "orders-debug", "linger": 0, "shared": false },
              "required": false,
              "timeout": 2.5,
            }
            """, "test.json");

        Assert.Equal("deployment/orders", options.Target);
        Assert.Equal("shop", options.Namespace);
        Assert.Equal("dev", options.Context);
        Assert.Equal("10.0.0.5:7777", options.Agent.Address);
        Assert.Equal(["PATH", "HOME"], options.Env.Exclude);
        Assert.Equal("Debug", options.Env.Override["LOG_LEVEL"]);
        Assert.Equal(FileSystemMode.LocalWithOverrides, options.Fs.Mode);
        Assert.Equal(["^/tmp/"], options.Fs.Local);
        Assert.False(options.Network.Dns);
        Assert.False(options.Network.Outgoing.Udp);
        Assert.Equal(["10.96.0.0/12"], options.Network.Outgoing.Remote);
        Assert.Equal(OutgoingDefault.Local, options.Network.Outgoing.Default);
        Assert.Equal(OutgoingDefault.Remote, new ClusterContextOptions().Network.Outgoing.Default);
        Assert.False(options.Required);
        Assert.Equal(TimeSpan.FromSeconds(2.5), options.Timeout);
        Assert.Equal("orders-debug", options.Session.Name);
        Assert.Equal(TimeSpan.Zero, options.Session.Linger);
        Assert.False(options.Session.Shared);
        Assert.Equal(TimeSpan.FromSeconds(30), new ClusterContextOptions().Session.Linger);
        Assert.True(new ClusterContextOptions().Session.Shared);
    }

    [Theory]
    [InlineData("""{ "targt": "pod/x" }""", "test.json: targt: unknown key")]
    [InlineData("""{ "fs": { "mode": 3 } }""", "test.json: fs.mode: expected a string, got the number 3")]
    [InlineData("""{ "fs": { "readOnly": ["^/etc/", 7] } }""", "test.json: fs.readOnly[1]: expected a string, got the number 7")]
    [InlineData("""{ "fs": { "local": ["(unclosed"] } }""", "test.json: fs.local[0]: '(unclosed' is not a valid regular expression")]
    [InlineData("""{ "network": { "outgoing": { "tcp": "yes" } } }""", "test.json: network.outgoing.tcp: expected true or false, got the string \"yes\"")]
    [InlineData("""{ "network": { "outgoing": { "default": "pod" } } }""", "test.json: network.outgoing.default: 'pod' is not a default; expected remote or local")]
    [InlineData("""{ "required": null }""", "test.json: required: expected true or false, got null")]
    [InlineData("""{ "timeout": -1 }""", "test.json: timeout: expected a positive number of seconds")]
    [InlineData("""{ "agent": [] }""", "test.json: agent: expected an object, got an array")]
    [InlineData("""{ "session": { "linger": -1 } }""", "test.json: session.linger: expected a number of seconds, 0 or more")]
    [InlineData("""{ "env": { "override": { "A": 1 } } }""", "test.json: env.override.A: expected a string, got the number 1")]
    [InlineData("""{ "target": """, "test.json: not valid JSON at line 1")]
    public void Unknown_keys_and_wrong_types_name_the_keys_path(string json, string message)
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Apply(new ClusterContextOptions(), json, "test.json"));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_variables_override_single_keys_of_the_file()
    {
        var directory = Directory.CreateTempSubdirectory("clustercontext-config-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "clustercontext.json"), """{ "target": "pod/a", "namespace": "one", "agent": { "address": "1.2.3.4:5" } }""");
            var environment = new Hashtable
            {
                ["CLUSTERCONTEXT_NAMESPACE"] = "two",
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = "secret",
                ["CLUSTERCONTEXT_FS_MODE"] = "write",
                ["CLUSTERCONTEXT_REQUIRED"] = "false",
                ["CLUSTERCONTEXT_SESSION"] = "orders-debug",
                ["CLUSTERCONTEXT_SESSION_LINGER"] = "2.5",
                ["CLUSTERCONTEXT_SESSION_SHARED"] = "false",
            };
            var options = ConfigurationLoader.Load(directory, environment);
            Assert.Equal("orders-debug", options.Session.Name);
            Assert.Equal(TimeSpan.FromSeconds(2.5), options.Session.Linger);
            Assert.False(options.Session.Shared);

            Assert.Equal("pod/a", options.Target);
            Assert.Equal("two", options.Namespace);
            Assert.Equal("1.2.3.4:5", options.Agent.Address);
            Assert.Equal("secret", options.Agent.Token);
            Assert.Equal(FileSystemMode.Write, options.Fs.Mode);
            Assert.False(options.Required);

            environment["CLUSTERCONTEXT_REQUIRED"] = "maybe";
            var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(directory, environment));
            Assert.Contains("CLUSTERCONTEXT_REQUIRED is 'maybe'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_missing_file_named_by_CLUSTERCONTEXT_CONFIG_is_an_error()
    {
        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load("/", new Hashtable { ["CLUSTERCONTEXT_CONFIG"] = "/nonexistent/cc.json" }));
        Assert.Contains("/nonexistent/cc.json", error.Message, StringComparison.Ordinal);
    }
}
