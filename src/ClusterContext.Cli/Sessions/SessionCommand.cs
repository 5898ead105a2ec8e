using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ClusterContext.Cli.Environment;
using ClusterContext.Cli.Progress;
using ClusterContext.Session.Host;

namespace ClusterContext.Cli.Sessions;

/// <summary>
/// <c>clusterctx session start|list|stop</c>: named session hosts, which a launch profile (DOTNET_STARTUP_HOOKS and
/// CLUSTERCONTEXT_SESSION=NAME) joins, so an IDE's F5 runs the app under the debugger in the pod's context.
/// </summary>
internal static class SessionCommand
{
    private static readonly string[] Headers = ["NAME", "TARGET", "NAMESPACE", "CONTEXT", "PID", "LINGER", "STARTED"];

    public static Command Create()
    {
        var command = new Command("session", "Start, list and stop named sessions (one agent in the pod, shared by every process that joins).");
        command.Subcommands.Add(Start());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Stop());
        return command;
    }

    private static Command Start()
    {
        var target = new TargetOptions();
        var name = new Argument<string>("name") { Description = "The session's name (letters, digits, '.', '_', '-'): what CLUSTERCONTEXT_SESSION names to join it." };
        var linger = new Option<double?>("--linger")
        {
            Description = "Seconds the session stays after its last process leaves. Default: until 'clusterctx session stop NAME'.",
            HelpName = "SECONDS",
        };
        var progress = EnvCommand.ProgressOption();
        var command = new Command("start", "Start a named session in the context of a target and wait until its agent runs in the pod.");
        command.Arguments.Add(name);
        target.AddTo(command);
        command.Options.Add(linger);
        command.Options.Add(progress);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var environment = target.Environment(parsed, new Dictionary<string, string?> { ["CLUSTERCONTEXT_SESSION"] = parsed.GetValue(name) });
            var options = TargetOptions.Load(environment);
            if (options.Target is null)
            {
                throw new CliException("A session needs a target: give -t deployment/NAME (or pod/NAME, ...), or set target in clustercontext.json.", ExitCodes.Usage);
            }

            var seconds = parsed.GetValue(linger);
            if (seconds is < 0)
            {
                throw new CliException($"--linger {seconds} is negative; give a number of seconds, or leave it out to keep the session until it is stopped.", ExitCodes.Usage);
            }

            // A negative linger is the host's "until stopped".
            options.Session.Linger = seconds is { } value ? TimeSpan.FromSeconds(value) : TimeSpan.FromSeconds(-1);
            if (SessionHosts.List(environment).FirstOrDefault(e => e.Name == options.Session.Name) is { } running)
            {
                await parsed.InvocationConfiguration.Output.WriteLineAsync($"Session '{running.Name}' runs already (process {running.Pid}, {running.Target}).").ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            using var reporter = new ProgressReporter(ProgressReporter.Parse(parsed.GetValue(progress)), parsed.InvocationConfiguration.Error);
            using var loggers = new ProgressLoggerFactory(reporter);
            var entry = await SessionHosts.StartAsync(options, environment, loggers.CreateLogger("ClusterContext"), cancellationToken).ConfigureAwait(false);
            reporter.Done();
            await parsed.InvocationConfiguration.Output.WriteLineAsync(
                $"Session '{entry.Name}' runs in the context of {entry.Target} (process {entry.Pid}, {Linger(entry)}). Processes with CLUSTERCONTEXT_SESSION={entry.Name} join it; 'clusterctx session stop {entry.Name}' ends it.").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List()
    {
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var command = new Command("list", "List this user's running sessions: named ones and those processes started for their target.");
        command.Options.Add(output);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var entries = SessionHosts.List(System.Environment.GetEnvironmentVariables()).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            var writer = parsed.InvocationConfiguration.Output;
            if (parsed.GetValue(output) == "json")
            {
                await writer.WriteLineAsync(Json(entries)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var rows = new List<string[]> { Headers };
            rows.AddRange(entries.Select(e => new[]
            {
                e.Name, e.Target ?? "", e.Namespace ?? "", e.Context ?? "", e.Pid.ToString(CultureInfo.InvariantCulture), Linger(e),
                e.Started.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            }));
            var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
            var text = new StringBuilder();
            foreach (var row in rows)
            {
                text.AppendJoin("   ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).Append('\n');
            }

            await writer.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Stop()
    {
        var name = new Argument<string>("name") { Description = "The session to stop (see 'clusterctx session list')." };
        var command = new Command("stop", "Stop a session: its agent leaves the pod, and the processes in it lose their session.");
        command.Arguments.Add(name);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var session = parsed.GetValue(name)!;
            if (!await SessionHosts.StopAsync(session, System.Environment.GetEnvironmentVariables(), cancellationToken).ConfigureAwait(false))
            {
                throw new CliException($"No session '{session}' runs; 'clusterctx session list' shows those that do.", ExitCodes.NoSuchSession);
            }

            await parsed.InvocationConfiguration.Output.WriteLineAsync($"Session '{session}' stopped.").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string Linger(SessionHostEntry entry) =>
        entry.LingerSeconds is { } seconds ? string.Create(CultureInfo.InvariantCulture, $"linger {seconds:0.###} s") : "until stopped";

    private static string Json(IReadOnlyList<SessionHostEntry> entries)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (var e in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("name", e.Name);
                writer.WriteString("target", e.Target);
                writer.WriteString("namespace", e.Namespace);
                writer.WriteString("context", e.Context);
                writer.WriteNumber("pid", e.Pid);
                if (e.LingerSeconds is { } linger)
                {
                    writer.WriteNumber("lingerSeconds", linger);
                }
                else
                {
                    writer.WriteNull("lingerSeconds");
                }

                writer.WriteString("started", e.Started);
                writer.WriteString("socket", e.Socket);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
