using System.Diagnostics;
using System.Text.Json;
using ClusterContext.Session;

namespace ClusterContext.Cli.Tests;

/// <summary><c>clusterctx env</c>: the pod's variables exactly as the hook imports them, in each format a tool reads.</summary>
[Collection(SandboxGroup.Name)]
public sealed class EnvTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    [Fact]
    public async Task Json_and_dotenv_hold_what_a_hooked_app_sees_of_the_pods_environment()
    {
        var json = await Cli.RunAsync("env", "-t", "deployment/orders", "--format", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var variables = JsonSerializer.Deserialize<Dictionary<string, string>>(json.Output)!;

        // The hook's filter over the pod's own environment (its app container's /proc/PID/environ).
        var pod = File.ReadAllText($"/proc/{Fixture.AppPid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2)).Select(p => KeyValuePair.Create(p[0], p[1])).ToList();
        Assert.Equal(EnvironmentImport.Select(new EnvironmentSettings(), pod).OrderBy(p => p.Key), variables.OrderBy(p => p.Key));
        Assert.Equal("sandbox", variables["ORDERS_MODE"]);
        Assert.DoesNotContain("PATH", variables.Keys);

        // An app under the hook sees each of them with the same value.
        var app = Cli.StartInfo("dotnet", [Clusterctx.AppPath, .. variables.Keys.Select(k => $"env:{k}")], new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = Clusterctx.HookPath,
            ["CLUSTERCONTEXT_TARGET"] = "deployment/orders",
        }, null);
        using var process = Process.Start(app)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seen = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t', 2)).ToDictionary(p => p[0]["env:".Length..], p => p[1]);
        Assert.Equal(variables.OrderBy(p => p.Key), seen.OrderBy(p => p.Key));

        var dotenv = await Cli.RunAsync("env", "-t", "deployment/orders", "--format", "dotenv");
        Assert.True(dotenv.ExitCode == 0, dotenv.ToString());
        Assert.Equal(variables.OrderBy(p => p.Key), Dotenv(dotenv.Output).OrderBy(p => p.Key));
    }

    [Fact]
    public async Task The_sh_format_sourced_by_a_real_shell_gives_each_value_unchanged()
    {
        var file = Path.Combine(Runtime, "pod.sh");
        var sh = await Cli.RunAsync("env", "-t", "deployment/orders", "--format", "sh", "-o", file);
        Assert.True(sh.ExitCode == 0, sh.ToString());
        var json = JsonSerializer.Deserialize<Dictionary<string, string>>((await Cli.RunAsync("env", "-t", "deployment/orders", "--format", "json")).Output)!;
        foreach (var (name, value) in json)
        {
            var info = new ProcessStartInfo("sh", ["-c", $". '{file}' && printf %s \"${name}\""]) { RedirectStandardOutput = true };
            info.Environment.Clear();
            using var shell = Process.Start(info)!;
            Assert.Equal(value, await shell.StandardOutput.ReadToEndAsync());
            await shell.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_value_with_quotes_dollars_backslashes_and_newlines_survives_json_sh_and_dotenv()
    {
        const string Tricky = "it's \"quoted\" $HOME `cmd` \\ back\nsecond line\ttab";
        const string Dollars = "costs $5 or ${PRICE} `now`";
        var config = Path.Combine(Runtime, "clustercontext.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { env = new { @override = new Dictionary<string, string> { ["TRICKY"] = Tricky, ["DOLLARS"] = Dollars } } }));

        var json = await Cli.RunAsync("env", "-t", "deployment/orders", "-f", config, "--format", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(Tricky, JsonSerializer.Deserialize<Dictionary<string, string>>(json.Output)!["TRICKY"]);

        var file = Path.Combine(Runtime, "tricky.sh");
        Assert.Equal(0, (await Cli.RunAsync("env", "-t", "deployment/orders", "-f", config, "--format", "sh", "-o", file)).ExitCode);
        var info = new ProcessStartInfo("sh", ["-c", $". '{file}' && printf %s \"$TRICKY\""]) { RedirectStandardOutput = true };
        using (var shell = Process.Start(info)!)
        {
            Assert.Equal(Tricky, await shell.StandardOutput.ReadToEndAsync());
            await shell.WaitForExitAsync();
        }

        var dotenv = await Cli.RunAsync("env", "-t", "deployment/orders", "-f", config, "--format", "dotenv");
        Assert.Equal(Tricky, Dotenv(dotenv.Output)["TRICKY"]);
        Assert.Equal(Dollars, Dotenv(dotenv.Output)["DOLLARS"]);
    }

    [Fact]
    public async Task Launchsettings_format_is_an_environmentVariables_object()
    {
        var run = await Cli.RunAsync("env", "-t", "deployment/orders", "--format", "launchsettings");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var document = JsonDocument.Parse(run.Output);
        Assert.Equal("sandbox", document.RootElement.GetProperty("environmentVariables").GetProperty("ORDERS_MODE").GetString());
    }

    /// <summary>KEY=value lines, a value bare, in single quotes (literal) or in double quotes with backslash escapes, as dotenv readers take them.</summary>
    private static Dictionary<string, string> Dotenv(string text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = (line[..line.IndexOf('=', StringComparison.Ordinal)], line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (value.StartsWith('\''))
            {
                value = value[1..^1];
            }
            else if (value.StartsWith('"'))
            {
                value = System.Text.RegularExpressions.Regex.Replace(value[1..^1], @"\\(.)", m => m.Groups[1].Value switch { "n" => "\n", "r" => "\r", var c => c });
            }

            variables[name] = value;
        }

        return variables;
    }
}
