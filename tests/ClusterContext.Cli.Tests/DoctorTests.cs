using System.Text.Json;
using ClusterContext.Testing.Kube;

namespace ClusterContext.Cli.Tests;

/// <summary><c>clusterctx doctor</c>: each permission the path needs, asked of the API server; a missing one named, exit 1.</summary>
[Collection(SandboxGroup.Name)]
public sealed class DoctorTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    [Fact]
    public async Task With_the_documented_role_every_check_passes()
    {
        Fixture.Cluster.Api.Bind("developer", DocumentedRole());
        var run = await Cli.RunAsync("doctor", "-t", "deployment/orders", "-o", "json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var document = JsonDocument.Parse(run.Output);
        Assert.True(document.RootElement.GetProperty("ok").GetBoolean());
        var checks = document.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("verdict").GetString());
        Assert.Equal("ok", checks["rbac: patch pods/ephemeralcontainers"]);
        Assert.Equal("ok", checks["rbac: create pods/portforward"]);
        Assert.Equal("ok", checks["target"]);
        Assert.Equal("ok", checks["ephemeral containers"]);
        Assert.Equal("ok", checks["clock"]);
    }

    [Theory]
    [InlineData("pods/ephemeralcontainers", "patch")]
    [InlineData("pods/portforward", "create")]
    [InlineData("deployments", "get")]
    public async Task A_missing_rule_is_named_with_its_verb_and_resource_and_fails_the_run(string resource, string verb)
    {
        var rules = DocumentedRole().Select(r => r.Resources.Contains(resource)
            ? r with { Verbs = [.. r.Verbs.Where(v => v != verb)] }
            : r).ToList();
        Fixture.Cluster.Api.Bind("developer", rules);
        var run = await Cli.RunAsync("doctor", "-t", "deployment/orders");
        Assert.True(run.ExitCode == 1, run.ToString());
        var line = Assert.Single(run.Output.Split('\n'), l => l.StartsWith("fail", StringComparison.Ordinal) && l.Contains($"rbac: {verb} {resource} ", StringComparison.Ordinal));
        Assert.Contains($"you cannot {verb} resource \"{resource}\"", line, StringComparison.Ordinal);
        Assert.Contains($"fix: Add verb \"{verb}\" on \"{resource}\"", run.Output, StringComparison.Ordinal);
        // Nothing else fails, but what needs that permission (the target, without reading its deployment).
        Assert.DoesNotContain(run.Output.Split('\n'), l => l.StartsWith("fail", StringComparison.Ordinal) && l != line && !l.Contains(" target ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_namespace_that_forbids_NET_ADMIN_fails_incoming_and_warns_otherwise()
    {
        Fixture.Cluster.Api.PodSecurityEnforce["shop"] = "baseline";
        try
        {
            var plain = await Cli.RunAsync("doctor", "-t", "deployment/orders");
            Assert.True(plain.ExitCode == 0, plain.ToString());
            Assert.Contains(plain.Output.Split('\n'), l => l.StartsWith("warn", StringComparison.Ordinal) && l.Contains("enforces 'baseline'", StringComparison.Ordinal));

            var incoming = await Cli.RunAsync(new Dictionary<string, string?> { ["CLUSTERCONTEXT_INCOMING_MODE"] = "steal" }, null, "doctor", "-t", "deployment/orders");
            Assert.True(incoming.ExitCode == 1, incoming.ToString());
            Assert.Contains(incoming.Output.Split('\n'), l => l.StartsWith("fail", StringComparison.Ordinal) && l.Contains("pod security", StringComparison.Ordinal));
        }
        finally
        {
            Fixture.Cluster.Api.PodSecurityEnforce.TryRemove("shop", out _);
        }
    }

    [Fact]
    public async Task An_unreachable_api_server_fails_with_what_to_do()
    {
        var kubeconfig = Path.Combine(Runtime, "kubeconfig");
        File.WriteAllText(kubeconfig, File.ReadAllText(Fixture.Kubeconfig).Replace(Fixture.Cluster.Api.Address.Authority, "127.0.0.1:1", StringComparison.Ordinal));
        var run = await Cli.RunAsync(new Dictionary<string, string?> { ["KUBECONFIG"] = kubeconfig }, null, "doctor");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(run.Output.Split('\n'), l => l.StartsWith("fail", StringComparison.Ordinal) && l.Contains("api server", StringComparison.Ordinal));
        Assert.Contains("fix: Check that the cluster runs", run.Output, StringComparison.Ordinal);
    }

    /// <summary>The rules of the Role in docs/clustercontext-rbac.yaml.</summary>
    private static List<RoleRule> DocumentedRole()
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(Clusterctx.RepositoryRoot, "docs", "clustercontext-rbac.yaml"))));
        var role = stream.Documents.Select(d => (YamlDotNet.RepresentationModel.YamlMappingNode)d.RootNode).Single(d => d["kind"].ToString() == "Role");
        static List<string> Strings(YamlDotNet.RepresentationModel.YamlNode rule, string key) =>
            [.. ((YamlDotNet.RepresentationModel.YamlSequenceNode)rule[key]).Children.Select(c => c.ToString())];
        return [.. ((YamlDotNet.RepresentationModel.YamlSequenceNode)role["rules"]).Children
            .Select(r => new RoleRule(Strings(r, "apiGroups"), Strings(r, "resources"), Strings(r, "verbs")))];
    }

    protected override void Dispose(bool disposing)
    {
        // The other tests' user may do anything again.
        Fixture.Cluster.Api.Bind("developer", [new RoleRule(["*"], ["*"], ["*"])]);
        base.Dispose(disposing);
    }
}
