using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterContext.Kube;
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

    /// <summary>
    /// The documented Role and a RoleBinding to the sandbox's user, created through the API; a verb taken out of the
    /// Role (an update through the API) is what doctor names, and each verdict is what kubectl auth can-i answers.
    /// </summary>
    [Fact]
    public async Task A_verb_removed_from_the_Role_through_the_API_is_named_and_every_verdict_is_kubectls()
    {
        Fixture.Cluster.Api.AddToken("clusterctx-tests-admin", "admin");
        var api = Fixture.Cluster.Api;
        using var admin = new KubeApiClient(new KubeEndpoint("sandbox", api.Address, "shop", api.Pki.AuthorityPem, false, null, null, new KubeCredentials(Token: "clusterctx-tests-admin")));
        const string Roles = "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles";
        const string Bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings";
        var role = new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "Role",
            ["metadata"] = new JsonObject { ["name"] = "clustercontext-user" },
            ["rules"] = new JsonArray([.. DocumentedRole().Select(r => (JsonNode)new JsonObject
            {
                ["apiGroups"] = new JsonArray([.. r.ApiGroups.Select(g => (JsonNode)g)]),
                ["resources"] = new JsonArray([.. r.Resources.Select(g => (JsonNode)g)]),
                ["verbs"] = new JsonArray([.. r.Verbs.Select(g => (JsonNode)g)]),
            })]),
        };
        var binding = JsonNode.Parse("""
            { "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": { "name": "clustercontext-user" },
              "subjects": [ { "kind": "User", "name": "developer", "apiGroup": "rbac.authorization.k8s.io" } ],
              "roleRef": { "kind": "Role", "name": "clustercontext-user", "apiGroup": "rbac.authorization.k8s.io" } }
            """)!;
        (await admin.SendAsync(HttpMethod.Post, Roles, role.ToJsonString(), null, CancellationToken.None)).Dispose();
        (await admin.SendAsync(HttpMethod.Post, Bindings, binding.ToJsonString(), null, CancellationToken.None)).Dispose();
        try
        {
            var allowed = await Cli.RunAsync("doctor", "-t", "deployment/orders", "-o", "json");
            Assert.True(allowed.ExitCode == 0, allowed.ToString());
            await AssertVerdictsAreKubectlsAsync(allowed.Output);

            // The Role as the server has it, without "patch" on pods/ephemeralcontainers, put back.
            using (var stored = await admin.SendAsync(HttpMethod.Get, $"{Roles}/clustercontext-user", null, null, CancellationToken.None))
            {
                var updated = JsonNode.Parse(stored.RootElement.GetRawText())!;
                var rule = updated["rules"]!.AsArray().Single(r => r!["resources"]!.AsArray().Any(x => (string?)x == "pods/ephemeralcontainers"))!;
                rule["verbs"] = new JsonArray([.. rule["verbs"]!.AsArray().Select(v => (string?)v).Where(v => v != "patch").Select(v => (JsonNode)v!)]);
                (await admin.SendAsync(HttpMethod.Put, $"{Roles}/clustercontext-user", updated.ToJsonString(), null, CancellationToken.None)).Dispose();
            }

            var denied = await Cli.RunAsync("doctor", "-t", "deployment/orders");
            Assert.True(denied.ExitCode == 1, denied.ToString());
            var line = Assert.Single(denied.Output.Split('\n'), l => l.StartsWith("fail", StringComparison.Ordinal));
            Assert.Contains("rbac: patch pods/ephemeralcontainers", line, StringComparison.Ordinal);
            Assert.Contains("you cannot patch resource \"pods/ephemeralcontainers\" in API group \"core\" in namespace 'shop'", line, StringComparison.Ordinal);
            await AssertVerdictsAreKubectlsAsync((await Cli.RunAsync("doctor", "-t", "deployment/orders", "-o", "json")).Output);
        }
        finally
        {
            (await admin.SendAsync(HttpMethod.Delete, $"{Bindings}/clustercontext-user", null, null, CancellationToken.None)).Dispose();
            (await admin.SendAsync(HttpMethod.Delete, $"{Roles}/clustercontext-user", null, null, CancellationToken.None)).Dispose();
        }
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
    public async Task The_pull_test_starts_the_agent_image_in_the_pod_and_fails_for_an_image_the_node_cannot_pull()
    {
        var before = AgentContainers().Count;
        var pulled = await Cli.RunAsync("doctor", "-t", "deployment/orders", "--pull-test", "-o", "json");
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        using (var document = JsonDocument.Parse(pulled.Output))
        {
            var check = document.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "agent image");
            Assert.Equal("ok", check.GetProperty("verdict").GetString());
        }

        Assert.Single(AgentContainers().Skip(before));

        var config = Path.Combine(Runtime, "clustercontext.json");
        await File.WriteAllTextAsync(config, """{ "agent": { "image": "registry.local/missing/agent:1", "startTimeout": 2 } }""");
        var missing = await Cli.RunAsync("doctor", "-t", "deployment/orders", "--pull-test", "-f", config);
        Assert.True(missing.ExitCode == 1, missing.ToString());
        var line = Assert.Single(missing.Output.Split('\n'), l => l.StartsWith("fail", StringComparison.Ordinal));
        Assert.Contains("agent image", line, StringComparison.Ordinal);
        Assert.Contains("ImagePullBackOff", line, StringComparison.Ordinal);
        Assert.Contains("fix: The node must be able to pull registry.local/missing/agent:1", missing.Output, StringComparison.Ordinal);
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

    /// <summary>Each rbac check of doctor's JSON is ok exactly when kubectl auth can-i says yes.</summary>
    private async Task AssertVerdictsAreKubectlsAsync(string doctorJson)
    {
        using var document = JsonDocument.Parse(doctorJson);
        var checks = document.RootElement.GetProperty("checks").EnumerateArray()
            .Select(c => (Name: c.GetProperty("name").GetString()!, Verdict: c.GetProperty("verdict").GetString()!))
            .Where(c => c.Name.StartsWith("rbac: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(checks);
        foreach (var (name, verdict) in checks)
        {
            var words = name["rbac: ".Length..].Split(' ');
            var parts = words[1].Split('/');
            var resource = parts[0] switch
            {
                "deployments" or "statefulsets" or "replicasets" or "daemonsets" => parts[0] + ".apps",
                "jobs" => "jobs.batch",
                var core => core,
            };
            var arguments = new List<string> { "auth", "can-i", words[0], resource, "-n", "shop" };
            if (parts.Length > 1)
            {
                arguments.Add($"--subresource={parts[1]}");
            }

            var info = new ProcessStartInfo("kubectl", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            info.Environment["KUBECONFIG"] = Fixture.Kubeconfig;
            using var kubectl = Process.Start(info)!;
            var answer = (await kubectl.StandardOutput.ReadToEndAsync()).Trim();
            var errors = await kubectl.StandardError.ReadToEndAsync();
            await kubectl.WaitForExitAsync();
            Assert.True(answer is "yes" or "no", $"kubectl {string.Join(' ', arguments)}: {answer} {errors}");
            Assert.True((answer == "yes") == (verdict == "ok"), $"{name}: doctor says {verdict}, kubectl auth can-i says {answer}");
        }
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
        Fixture.Cluster.Api.Unbind("developer");
        base.Dispose(disposing);
    }
}
