using System.CommandLine;
using ClusterContext.Cli.Progress;

namespace ClusterContext.Cli.Environment;

/// <summary><c>clusterctx env</c>: the pod's environment, exactly as the hook imports it, for a shell, a file or an IDE.</summary>
internal static class EnvCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var format = new Option<string>("--format")
        {
            Description = "How to write the variables: dotenv (KEY=value), json (an object), sh (export lines), ps1 (PowerShell), launchsettings (an environmentVariables object).",
            DefaultValueFactory = _ => "dotenv",
        };
        format.AcceptOnlyFromAmong(EnvFormat.Names);
        var session = SessionOption();
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write to this file instead of stdout.", HelpName = "FILE" };
        var progress = ProgressOption();
        var command = new Command("env", "Print the target pod's environment variables as the hook imports them (the env include/exclude/override/unset rules applied).");
        target.AddTo(command);
        command.Options.Add(session);
        command.Options.Add(format);
        command.Options.Add(output);
        command.Options.Add(progress);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var environment = target.Environment(parsed, new Dictionary<string, string?> { ["CLUSTERCONTEXT_SESSION"] = parsed.GetValue(session) });
            var options = TargetOptions.Load(environment);
            using var reporter = new ProgressReporter(ProgressReporter.Parse(parsed.GetValue(progress)), parsed.InvocationConfiguration.Error);
            using var loggers = new ProgressLoggerFactory(reporter);
            var variables = await PodEnvironment.GetAsync(options, environment, loggers, cancellationToken).ConfigureAwait(false);
            reporter.Done();
            var text = EnvFormat.Write(parsed.GetValue(format)!, variables);
            if (parsed.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, text, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await parsed.InvocationConfiguration.Output.WriteAsync(text).ConfigureAwait(false);
                await parsed.InvocationConfiguration.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary><c>--session NAME</c>: join the named session (<c>clusterctx session start</c>).</summary>
    public static Option<string?> SessionOption() => new("--session")
    {
        Description = "Join the named session started with 'clusterctx session start NAME' (its target, namespace and context).",
        HelpName = "NAME",
    };

    /// <summary><c>--progress auto|plain|json|quiet</c>.</summary>
    public static Option<string> ProgressOption()
    {
        var progress = new Option<string>("--progress")
        {
            Description = "How to show progress on stderr: auto (a spinner on a terminal, plain lines otherwise), plain, json (one object per line), quiet.",
            DefaultValueFactory = _ => "auto",
        };
        progress.AcceptOnlyFromAmong("auto", "plain", "json", "quiet");
        return progress;
    }
}
