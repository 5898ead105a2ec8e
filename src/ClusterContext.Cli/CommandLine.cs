using System.CommandLine;
using ClusterContext.Cli.Doctor;
using ClusterContext.Cli.Environment;
using ClusterContext.Cli.Ide;
using ClusterContext.Cli.Run;
using ClusterContext.Cli.Sandbox;
using ClusterContext.Cli.Sessions;
using ClusterContext.Cli.Targets;

// Session hosts listen on Unix sockets (Linux and macOS); so does every command that starts or joins one.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace ClusterContext.Cli;

/// <summary>The commands of <c>clusterctx</c> and how a parse becomes an exit code.</summary>
internal static class CommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("""
            clusterctx runs programs on this machine in the context of a Kubernetes pod: its environment variables, its
            files, its DNS and network, and (optionally) its incoming traffic. See docs/cli.md.
            """);
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(LsCommand.Create());
        root.Subcommands.Add(EnvCommand.Create());
        root.Subcommands.Add(SessionCommand.Create());
        root.Subcommands.Add(IdeCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(SandboxCommand.Create());
        return root;
    }

    /// <summary>Runs the parsed command; a usage error exits <see cref="ExitCodes.Usage"/> after naming what was wrong.</summary>
    public static async Task<int> InvokeAsync(ParseResult parsed, TextWriter? output = null, TextWriter? error = null)
    {
        error ??= Console.Error;
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                await error.WriteLineAsync($"clusterctx: {problem.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync($"Run '{CommandPath(parsed)} --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // `run` handles SIGINT and SIGTERM itself (they go to its child); the other commands end at once on Ctrl+C.
        return await parsed.InvokeAsync(new InvocationConfiguration
        {
            ProcessTerminationTimeout = null,
            Output = output ?? Console.Out,
            Error = error,
        }).ConfigureAwait(false);
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "clusterctx" : result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
