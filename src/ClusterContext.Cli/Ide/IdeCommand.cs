using System.CommandLine;
using System.Text.Json.Nodes;
using ClusterContext.Cli.Run;

namespace ClusterContext.Cli.Ide;

/// <summary>
/// <c>clusterctx ide launchsettings|vscode</c>: a launch profile that starts the app itself (so the debugger is on the
/// app, not on a wrapper) with the startup hook and the named session to join.
/// </summary>
internal static class IdeCommand
{
    public static Command Create()
    {
        var command = new Command("ide", "Write IDE launch configurations that run the app in a named session's pod context under the debugger.");
        command.Subcommands.Add(LaunchSettings());
        command.Subcommands.Add(VsCode());
        return command;
    }

    /// <summary>The variables a process needs to join session <paramref name="session"/> through the hook beside this tool.</summary>
    public static Dictionary<string, string> Variables(string session) => new(StringComparer.Ordinal)
    {
        ["DOTNET_STARTUP_HOOKS"] = HookFiles.RequireHook(),
        ["CLUSTERCONTEXT_SESSION"] = session,
    };

    private static Option<string> RequiredSession() => new("--session")
    {
        Description = "The named session the app joins (start it with 'clusterctx session start NAME -t TARGET').",
        HelpName = "NAME",
        Required = true,
    };

    private static Command LaunchSettings()
    {
        var project = new Option<string?>("--project") { Description = "The app's project folder (or file). Default: the current folder.", HelpName = "DIR" };
        var profile = new Option<string?>("--profile") { Description = "The profile's name. Default: clusterctx-SESSION.", HelpName = "NAME" };
        var session = RequiredSession();
        var command = new Command("launchsettings", "Write or merge a profile into the project's Properties/launchSettings.json (Visual Studio, Rider, dotnet run --launch-profile).");
        command.Options.Add(project);
        command.Options.Add(profile);
        command.Options.Add(session);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var name = parsed.GetValue(session)!;
            var app = ProjectFile.Find(parsed.GetValue(project));
            var path = Path.Combine(app.Directory, "Properties", "launchSettings.json");
            var profileName = parsed.GetValue(profile) ?? $"clusterctx-{name}";
            var settings = JsonFiles.Read(path, () => new JsonObject { ["$schema"] = "https://json.schemastore.org/launchsettings.json" });
            var entry = JsonFiles.Child(JsonFiles.Child(settings, "profiles"), profileName);
            entry["commandName"] = "Project";
            var variables = JsonFiles.Child(entry, "environmentVariables");
            foreach (var (key, value) in Variables(name))
            {
                variables[key] = value;
            }

            JsonFiles.Write(path, settings);
            await parsed.InvocationConfiguration.Output.WriteLineAsync($"Profile '{profileName}' in {path} joins session '{name}': run it with F5, or dotnet run --launch-profile {profileName}.").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command VsCode()
    {
        var project = new Option<string?>("--project") { Description = "The app's project folder (or file). Default: the current folder.", HelpName = "DIR" };
        var workspace = new Option<string?>("--workspace") { Description = "The VS Code workspace folder (.vscode/launch.json is written there). Default: the current folder.", HelpName = "DIR" };
        var configuration = new Option<string?>("--name") { Description = "The launch configuration's name. Default: clusterctx-SESSION.", HelpName = "NAME" };
        var session = RequiredSession();
        var command = new Command("vscode", "Write or merge a coreclr launch configuration into .vscode/launch.json.");
        command.Options.Add(project);
        command.Options.Add(workspace);
        command.Options.Add(configuration);
        command.Options.Add(session);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var name = parsed.GetValue(session)!;
            var app = ProjectFile.Find(parsed.GetValue(project));
            var root = Path.GetFullPath(parsed.GetValue(workspace) ?? System.Environment.CurrentDirectory);
            var path = Path.Combine(root, ".vscode", "launch.json");
            var configurationName = parsed.GetValue(configuration) ?? $"clusterctx-{name}";
            var relative = Path.GetRelativePath(root, app.Directory).Replace('\\', '/');
            var folder = relative == "." ? "${workspaceFolder}" : "${workspaceFolder}/" + relative;
            var launch = JsonFiles.Read(path, () => new JsonObject { ["version"] = "0.2.0" });
            if (launch["configurations"] is not JsonArray configurations)
            {
                configurations = [];
                launch["configurations"] = configurations;
            }

            var entry = configurations.OfType<JsonObject>().FirstOrDefault(c => (string?)c["name"] == configurationName);
            if (entry is null)
            {
                entry = [];
                configurations.Add(entry);
            }

            entry["name"] = configurationName;
            entry["type"] = "coreclr";
            entry["request"] = "launch";
            entry["program"] = $"{folder}/bin/Debug/{app.TargetFramework ?? "net10.0"}/{app.AssemblyName}.dll";
            entry["cwd"] = folder;
            entry["console"] ??= "integratedTerminal";
            entry["stopAtEntry"] ??= false;
            var env = JsonFiles.Child(entry, "env");
            foreach (var (key, value) in Variables(name))
            {
                env[key] = value;
            }

            JsonFiles.Write(path, launch);
            await parsed.InvocationConfiguration.Output.WriteLineAsync($"Configuration '{configurationName}' in {path} joins session '{name}' (build the project first: dotnet build {app.Path}).").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
