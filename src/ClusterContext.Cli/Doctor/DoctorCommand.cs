using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace ClusterContext.Cli.Doctor;

/// <summary><c>clusterctx doctor</c>: whether a session can start here, each check with its verdict and fix; exit 1 when one fails.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var target = new TargetOptions();
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var pullTest = new Option<bool>("--pull-test")
        {
            Description = "Also start a short test container of the agent image in the target pod (it ends at once; the pod keeps a terminated ephemeral container, as after every session).",
        };
        var command = new Command("doctor", "Check that sessions can start: kubeconfig, API server, clock, RBAC, ephemeral containers, target, Pod Security; exit 1 when a check fails.");
        target.AddTo(command);
        command.Options.Add(pullTest);
        command.Options.Add(output);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            var options = TargetOptions.Load(target.Environment(parsed));
            var checks = await Doctor.RunAsync(options, parsed.GetValue(pullTest), cancellationToken).ConfigureAwait(false);
            var writer = parsed.InvocationConfiguration.Output;
            await writer.WriteAsync(parsed.GetValue(output) == "json" ? Json(checks) : Table(checks)).ConfigureAwait(false);
            return checks.Any(c => c.Verdict == Verdict.Fail) ? ExitCodes.Failed : ExitCodes.Ok;
        }));
        return command;
    }

    private static string Table(IReadOnlyList<Check> checks)
    {
        var width = checks.Max(c => c.Name.Length);
        var text = new StringBuilder();
        foreach (var check in checks)
        {
            text.Append(check.Verdict.ToString().ToLowerInvariant().PadRight(5)).Append(check.Name.PadRight(width + 2)).Append(check.Detail).Append('\n');
            if (check.Fix is { } fix && check.Verdict != Verdict.Ok)
            {
                text.Append(' ', 5 + width + 2).Append("fix: ").Append(fix).Append('\n');
            }
        }

        var failed = checks.Count(c => c.Verdict == Verdict.Fail);
        var warned = checks.Count(c => c.Verdict == Verdict.Warn);
        text.Append(failed > 0 ? $"{failed} check(s) failed" : "No check failed").Append(warned > 0 ? $", {warned} warning(s).\n" : ".\n");
        return text.ToString();
    }

    private static string Json(IReadOnlyList<Check> checks)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", checks.All(c => c.Verdict != Verdict.Fail));
            writer.WriteStartArray("checks");
            foreach (var check in checks)
            {
                writer.WriteStartObject();
                writer.WriteString("name", check.Name);
                writer.WriteString("verdict", check.Verdict.ToString().ToLowerInvariant());
                writer.WriteString("detail", check.Detail);
                writer.WriteString("fix", check.Fix);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
