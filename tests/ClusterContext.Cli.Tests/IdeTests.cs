using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterContext.Testing.Cluster;

namespace ClusterContext.Cli.Tests;

/// <summary>
/// <c>clusterctx ide</c>: a launch profile that runs the app itself with the hook and a named session, so that
/// <c>dotnet run --launch-profile</c> (and an IDE's F5) joins the session <c>clusterctx session start</c> started.
/// </summary>
[Collection(SandboxGroup.Name)]
public sealed class IdeTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    private const string Program = $$"""
        Console.WriteLine("mode=" + Environment.GetEnvironmentVariable("ORDERS_MODE"));
        Console.WriteLine("config=" + File.ReadAllText("{{SandboxCluster.ConfigPath}}"));
        """;

    private const string Project = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <AssemblyName>ProfileApp</AssemblyName>
          </PropertyGroup>
        </Project>
        """;

    [Fact]
    public async Task Dotnet_run_with_the_written_profile_joins_the_named_session_and_starts_no_agent_of_its_own()
    {
        var app = Directory.CreateDirectory(Path.Combine(Runtime, "app")).FullName;
        await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), Project);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), Program);

        // A profile of the developer's own stays as it is.
        Directory.CreateDirectory(Path.Combine(app, "Properties"));
        await File.WriteAllTextAsync(Path.Combine(app, "Properties", "launchSettings.json"), """
            {
              // written by the developer
              "profiles": { "mine": { "commandName": "Project", "environmentVariables": { "A": "1" } } }
            }
            """);

        var before = AgentContainers().Count;
        var start = await Cli.RunAsync("session", "start", "ide", "-t", "deployment/orders");
        Assert.True(start.ExitCode == 0, start.ToString());
        var host = Assert.Single(Directory.GetFiles(Cli.Sessions, "*.lock"));

        var write = await Cli.RunAsync("ide", "launchsettings", "--project", app, "--profile", "pod", "--session", "ide");
        Assert.True(write.ExitCode == 0, write.ToString());
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(app, "Properties", "launchSettings.json")))!;
        Assert.Equal("1", (string?)settings["profiles"]!["mine"]!["environmentVariables"]!["A"]);
        var profile = settings["profiles"]!["pod"]!;
        Assert.Equal("Project", (string?)profile["commandName"]);
        Assert.Equal(Clusterctx.HookPath, (string?)profile["environmentVariables"]!["DOTNET_STARTUP_HOOKS"]);
        Assert.Equal("ide", (string?)profile["environmentVariables"]!["CLUSTERCONTEXT_SESSION"]);

        // dotnet run, as an IDE's F5 runs the profile; no target of its own: the session's.
        // No build server or node stays behind the test.
        var run = Cli.StartInfo("dotnet", ["run", "--launch-profile", "pod", "--property:UseSharedCompilation=false"], new Dictionary<string, string?>
        {
            ["CLUSTERCONTEXT_SESSION_LINGER"] = null,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
        }, app);
        using (var process = Process.Start(run)!)
        {
            process.StandardInput.Close();
            var errors = process.StandardError.ReadToEndAsync();
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
            var all = $"{output}\n{await errors}";
            Assert.True(process.ExitCode == 0, all);
            Assert.Contains("mode=sandbox", output.Split('\n'));
            Assert.Contains($"config={SandboxCluster.ConfigText}", output.Split('\n'));
        }

        // One host (the named one), one agent (its).
        Assert.Equal([host], Directory.GetFiles(Cli.Sessions, "*.lock"));
        Assert.Single(AgentContainers().Skip(before));
        var list = await Cli.RunAsync("session", "list", "-o", "json");
        using (var document = JsonDocument.Parse(list.Output))
        {
            Assert.Equal("ide", Assert.Single(document.RootElement.EnumerateArray()).GetProperty("name").GetString());
        }

        Assert.Equal(0, (await Cli.RunAsync("session", "stop", "ide")).ExitCode);
    }

    [Fact]
    public async Task Vscode_gets_a_coreclr_configuration_with_the_hook_and_the_session_and_keeps_the_others()
    {
        var app = Directory.CreateDirectory(Path.Combine(Runtime, "src", "app")).FullName;
        await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), Project);
        Directory.CreateDirectory(Path.Combine(Runtime, ".vscode"));
        await File.WriteAllTextAsync(Path.Combine(Runtime, ".vscode", "launch.json"), """
            { "version": "0.2.0", "configurations": [ { "name": "other", "type": "node", "request": "launch" }, ] }
            """);

        var write = await Cli.RunAsync(new Dictionary<string, string?>(), Runtime, "ide", "vscode", "--project", "src/app", "--session", "ide");
        Assert.True(write.ExitCode == 0, write.ToString());
        var launch = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Runtime, ".vscode", "launch.json")))!;
        var configurations = launch["configurations"]!.AsArray();
        Assert.Equal(["other", "clusterctx-ide"], configurations.Select(c => (string?)c!["name"]));
        var configuration = configurations[1]!;
        Assert.Equal("coreclr", (string?)configuration["type"]);
        Assert.Equal("${workspaceFolder}/src/app/bin/Debug/net10.0/ProfileApp.dll", (string?)configuration["program"]);
        Assert.Equal(Clusterctx.HookPath, (string?)configuration["env"]!["DOTNET_STARTUP_HOOKS"]);
        Assert.Equal("ide", (string?)configuration["env"]!["CLUSTERCONTEXT_SESSION"]);

        // Written again: the same configuration, updated in place.
        Assert.Equal(0, (await Cli.RunAsync(new Dictionary<string, string?>(), Runtime, "ide", "vscode", "--project", "src/app", "--session", "ide")).ExitCode);
        Assert.Equal(2, JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Runtime, ".vscode", "launch.json")))!["configurations"]!.AsArray().Count);
    }
}
