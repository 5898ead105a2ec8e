using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ClusterContext.Cli.Targets;

/// <summary><c>clusterctx ls</c>: the namespace's targets with their containers and ports, as a table or as JSON for an IDE's picker.</summary>
internal static class LsCommand
{
    private static readonly string[] Headers = ["TARGET", "READY", "CONTAINERS", "PORTS"];

    public static Command Create()
    {
        var target = new TargetOptions();
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var command = new Command("ls", "List the targets (pods, deployments, statefulsets, daemonsets, replicasets, jobs) of a namespace, with their containers and ports.");
        target.AddTo(command, target: false, file: false);
        command.Options.Add(output);
        command.SetAction((parsed, cancellationToken) => Failures.RunAsync(parsed.InvocationConfiguration.Error, async () =>
        {
            // The namespace and context of clustercontext.json and CLUSTERCONTEXT_* too, as the other commands read them.
            var options = TargetOptions.Load(target.Environment(parsed));
            var list = await TargetLister.ListAsync(options.Context, options.Namespace, cancellationToken).ConfigureAwait(false);
            var writer = parsed.InvocationConfiguration.Output;
            if (parsed.GetValue(output) == "json")
            {
                await writer.WriteLineAsync(JsonSerializer.Serialize(list, TargetsJson.Default.TargetList)).ConfigureAwait(false);
            }
            else
            {
                await writer.WriteAsync(Table(list)).ConfigureAwait(false);
                foreach (var warning in list.Warnings)
                {
                    await parsed.InvocationConfiguration.Error.WriteLineAsync($"clusterctx: warning: {warning}").ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string Table(TargetList list)
    {
        var rows = new List<string[]> { Headers };
        rows.AddRange(list.Targets.Select(t => new[]
        {
            t.Target,
            t.Ready,
            string.Join(",", t.Containers.Select(c => c.Name)),
            string.Join(",", t.Containers.SelectMany(c => c.Ports).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.ContainerPort}/{p.Protocol}"))),
        }));
        var widths = Enumerable.Range(0, 4).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendJoin("   ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).Append('\n');
        }

        return text.ToString();
    }
}
