using System.Collections;
using System.CommandLine;
using ClusterContext.Cli.Environment;
using ClusterContext.Cli.Progress;
using ClusterContext.Session.Host;

namespace ClusterContext.Cli.Run;

/// <summary>
/// <c>clusterctx run -t TARGET -- CMD ARGS…</c>: runs a program in the pod's context and exits with its exit code. A
/// .NET program gets the startup hook (and joins the session host this command starts, so its own start is fast);
/// any other program gets the pod's environment, imported as the hook would import it.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var steal = new Option<bool>("--steal") { Description = "Take the pod's incoming traffic (of the ports the app listens on), or the requests --header selects." };
        var mirror = new Option<bool>("--mirror") { Description = "Receive a copy of the pod's incoming traffic; the pod's own app still answers it." };
        var header = new Option<string?>("--header")
        {
            Description = "With --steal: only requests with a header line ('Name: value') matching this regular expression. Implies --steal.",
            HelpName = "REGEX",
        };
        var envFile = new Option<FileInfo?>("--env-file")
        {
            Description = "Also write the pod's variables the program gets to this file (dotenv: KEY=value lines).",
            HelpName = "FILE",
        };
        var session = EnvCommand.SessionOption();
        var progress = EnvCommand.ProgressOption();
        var program = new Argument<string[]>("command")
        {
            Description = "The program and its arguments, after '--' (clusterctx run -t deployment/orders -- dotnet run).",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("run", "Run a program on this machine in the context of a pod; exits with the program's exit code.");
        target.AddTo(command);
        command.Options.Add(steal);
        command.Options.Add(mirror);
        command.Options.Add(header);
        command.Options.Add(envFile);
        command.Options.Add(session);
        command.Options.Add(progress);
        command.Arguments.Add(program);
        command.Validators.Add(result =>
        {
            if (result.GetValue(steal) && result.GetValue(mirror))
            {
                result.AddError("--steal and --mirror exclude each other: choose one.");
            }

            if (result.GetValue(header) is not null && result.GetValue(mirror))
            {
                result.AddError("--header filters stolen requests; it does not go with --mirror.");
            }
        });
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var incoming = parsed.GetValue(mirror) ? "mirror" : parsed.GetValue(steal) || parsed.GetValue(header) is not null ? "steal" : null;
            var environment = target.Environment(parsed, new Dictionary<string, string?>
            {
                ["CLUSTERCONTEXT_INCOMING_MODE"] = incoming,
                ["CLUSTERCONTEXT_INCOMING_HEADER"] = parsed.GetValue(header),
                ["CLUSTERCONTEXT_SESSION"] = parsed.GetValue(session),
            });
            var options = TargetOptions.Load(environment);
            if (options.Target is null && options.Session.Name is null && options.Agent.Address is null)
            {
                throw new CliException("No target: give -t deployment/NAME (or pod/NAME, ...), --session NAME, or set target in clustercontext.json.", ExitCodes.Usage);
            }

            var arguments = parsed.GetValue(program)!;
            using var reporter = new ProgressReporter(ProgressReporter.Parse(parsed.GetValue(progress)), parsed.InvocationConfiguration.Error);
            using var loggers = new ProgressLoggerFactory(reporter);
            return await RunAsync(arguments, environment, options, parsed.GetValue(envFile), reporter, loggers, cancellationToken).ConfigureAwait(false);
        }));
        return command;
    }

    private static async Task<int> RunAsync(string[] arguments, Hashtable environment, ClusterContextOptions options, FileInfo? envFile, ProgressReporter reporter, ProgressLoggerFactory loggers, CancellationToken cancellationToken)
    {
        var resolved = ProgramKind.Resolve(arguments[0], environment["PATH"] as string)
            ?? throw new CliException($"{arguments[0]}: command not found{(arguments[0].Contains('/', StringComparison.Ordinal) ? "" : " on PATH")}.", ExitCodes.NotFound);
        var dotnet = ProgramKind.IsDotnet(arguments[0], resolved);
        var logger = loggers.CreateLogger("ClusterContext");

        // The session host outlives this command by its linger: the program's processes (and the next run) join it.
        using var host = SessionHostClient.For(options, environment, logger);
        if (host is not null)
        {
            await host.JoinAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!dotnet || envFile is not null)
        {
            var variables = await PodEnvironment.GetAsync(options, environment, loggers, cancellationToken).ConfigureAwait(false);
            if (envFile is not null)
            {
                await File.WriteAllTextAsync(envFile.FullName, EnvFormat.Write("dotenv", variables), cancellationToken).ConfigureAwait(false);
            }

            if (!dotnet)
            {
                foreach (var name in options.Env.Unset)
                {
                    environment.Remove(name);
                }

                foreach (var (name, value) in variables)
                {
                    environment[name] = value;
                }
            }
        }

        var native = "the pod's environment";
        if (!dotnet)
        {
            native = Preload(resolved, environment, host, reporter);
        }

        // A .NET program gets the startup hook (which gives the programs it starts the shim); so do the .NET programs a
        // program that is not .NET starts (a script's dotnet run), which the shim leaves to it.
        if (dotnet || File.Exists(HookFiles.HookPath))
        {
            var hook = dotnet ? HookFiles.RequireHook() : HookFiles.HookPath;
            // Hooks already set (a profiler's, dotnet-watch's) stay, after this one.
            environment["DOTNET_STARTUP_HOOKS"] = environment["DOTNET_STARTUP_HOOKS"] switch
            {
                string { Length: > 0 } other when other.Split(Path.PathSeparator).Contains(hook) => other,
                string { Length: > 0 } other => hook + Path.PathSeparator + other,
                _ => hook,
            };
        }

        reporter.Done($"Running {arguments[0]} in the context of {options.Target ?? $"session '{options.Session.Name}'"}{(dotnet ? " (startup hook)" : $" ({native})")}");
        return await ChildProcess.RunAsync(resolved, arguments[1..], environment).ConfigureAwait(false);
    }

    /// <summary>
    /// Gives a program that is not .NET the native shim (LD_PRELOAD), joined to the session host, so its files, names
    /// and connections are the pod's too; says why not when it cannot reach the program. What the program gets.
    /// </summary>
    private static string Preload(string program, Hashtable environment, SessionHostClient? host, ProgressReporter reporter)
    {
        if (ProgramKind.NativeLimit(program) is { } limit)
        {
            reporter.Warn(limit);
            return "the pod's environment";
        }

        var shim = HookFiles.ShimPath;
        if (host is null || !File.Exists(shim))
        {
            reporter.Warn(host is null
                ? "No session host for this session (agent.address, or session.shared false): the program gets the pod's environment only."
                : $"The native shim {shim} is missing (built where gcc was found): the program gets the pod's environment only.");
            return "the pod's environment";
        }

        if (ProgramKind.NativeCaveat(program) is { } caveat)
        {
            reporter.Warn(caveat);
        }

        foreach (var (name, value) in NativeShim.Variables(shim, host.Files.Socket, environment["LD_PRELOAD"] as string))
        {
            environment[name] = value;
        }

        return "the pod's environment, files, DNS and connections";
    }
}
