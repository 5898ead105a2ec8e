using System.Text.Json;

namespace ClusterContext.Cli.Tests;

/// <summary><c>clusterctx session start|list|stop</c>: a named host that stays until stopped, and nothing left after.</summary>
[Collection(SandboxGroup.Name)]
public sealed class SessionTests(SandboxClusterFixture fixture) : CliTestBase(fixture)
{
    [Fact]
    public async Task Start_list_stop_round_trip_leaves_nothing_behind()
    {
        var before = AgentContainers().Count;
        var start = await Cli.RunAsync("session", "start", "round-trip", "-t", "deployment/orders");
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains("Session 'round-trip' runs in the context of deployment/orders", start.Output, StringComparison.Ordinal);
        Assert.Single(AgentContainers().Skip(before));

        // Until stopped: no linger, though the environment says 0 (the option's default is to stay).
        var list = await Cli.RunAsync("session", "list", "-o", "json");
        Assert.True(list.ExitCode == 0, list.ToString());
        using (var document = JsonDocument.Parse(list.Output))
        {
            var entry = Assert.Single(document.RootElement.EnumerateArray());
            Assert.Equal("round-trip", entry.GetProperty("name").GetString());
            Assert.Equal("deployment/orders", entry.GetProperty("target").GetString());
            Assert.Equal(JsonValueKind.Null, entry.GetProperty("lingerSeconds").ValueKind);
        }

        // Started again: the running one is kept.
        var again = await Cli.RunAsync("session", "start", "round-trip", "-t", "deployment/orders");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("runs already", again.Output, StringComparison.Ordinal);
        Assert.Single(AgentContainers().Skip(before));

        var stop = await Cli.RunAsync("session", "stop", "round-trip");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Cli.Sessions));
        Assert.Equal("[]", (await Cli.RunAsync("session", "list", "-o", "json")).Output.Trim());

        var stopAgain = await Cli.RunAsync("session", "stop", "round-trip");
        Assert.True(stopAgain.ExitCode == 4, stopAgain.ToString());
        Assert.Contains("No session 'round-trip' runs", stopAgain.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_with_a_linger_leaves_by_itself_and_its_files_with_it()
    {
        var start = await Cli.RunAsync("session", "start", "short", "-t", "deployment/orders", "--linger", "1");
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains("linger 1 s", (await Cli.RunAsync("session", "list")).Output, StringComparison.Ordinal);
        await WaitForAsync(() => !Directory.EnumerateFileSystemEntries(Cli.Sessions).Any(), "the session's socket, lock and log to go");
    }

    [Fact]
    public async Task Env_through_a_named_session_needs_no_target()
    {
        var start = await Cli.RunAsync("session", "start", "named", "-t", "deployment/orders");
        Assert.True(start.ExitCode == 0, start.ToString());
        var before = AgentContainers().Count;
        var env = await Cli.RunAsync("env", "--session", "named");
        Assert.True(env.ExitCode == 0, env.ToString());
        Assert.Contains("ORDERS_MODE=sandbox", env.Output.Split('\n'));
        Assert.Equal(before, AgentContainers().Count);
        Assert.Equal(0, (await Cli.RunAsync("session", "stop", "named")).ExitCode);

        var gone = await Cli.RunAsync("env", "--session", "named");
        Assert.True(gone.ExitCode == 3, gone.ToString());
        Assert.Contains("clusterctx session start named -t TARGET", gone.Error, StringComparison.Ordinal);
    }
}
