using ClusterContext.Testing.Kube.Streaming.Spdy;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube.Streaming;

/// <summary>
/// <c>pods/NAME/exec</c>: the request checked as the API server checks it (a command, at least one stream, a
/// container the pod has), then the streams over WebSocket (<c>v5.channel.k8s.io</c>, <c>v4.channel.k8s.io</c>) or
/// SPDY, and the command run by <see cref="KubeApiServer.Exec"/>; its end reported on the error stream as the
/// kubelet reports it.
/// </summary>
internal static class PodExec
{
    public static async Task HandleAsync(HttpContext context, JsonObject pod, Func<ExecRequest, CancellationToken, Task<int>> exec)
    {
        var query = context.Request.Query;
        var name = (string)pod["metadata"]!["name"]!;
        var options = new ExecOptions(
            (string)pod["metadata"]!["namespace"]!, name, query["container"].ToString(), [.. query["command"].Select(c => c ?? "")],
            IsTrue(query["stdin"]), IsTrue(query["stdout"]), IsTrue(query["stderr"]), IsTrue(query["tty"]));
        if (options.Command.Count == 0)
        {
            await BadRequestAsync(context, "you must specify at least 1 command").ConfigureAwait(false);
            return;
        }

        if (!options.Stdin && !options.Stdout && !options.Stderr)
        {
            await BadRequestAsync(context, "you must specify at least one of stdin, stdout, stderr").ConfigureAwait(false);
            return;
        }

        var containers = (pod["spec"]?["containers"]?.AsArray() ?? []).Select(c => (string?)c?["name"] ?? "").ToList();
        var ephemeral = (pod["spec"]?["ephemeralContainers"]?.AsArray() ?? []).Select(c => (string?)c?["name"] ?? "");
        if (options.Container.Length == 0)
        {
            if (containers.Count != 1)
            {
                await BadRequestAsync(context, $"a container name must be specified for pod {name}, choose one of: [{string.Join(' ', containers)}]").ConfigureAwait(false);
                return;
            }

            options = options with { Container = containers[0] };
        }
        else if (!containers.Contains(options.Container) && !ephemeral.Contains(options.Container))
        {
            await BadRequestAsync(context, $"container {options.Container} is not valid for pod {name}").ConfigureAwait(false);
            return;
        }

        if (context.WebSockets.IsWebSocketRequest)
        {
            await WebSocketExec.ServeAsync(context, options, exec).ConfigureAwait(false);
            return;
        }

        if (SpdyUpgrade.IsRequested(context))
        {
            await SpdyExec.ServeAsync(context, options, exec).ConfigureAwait(false);
            return;
        }

        await BadRequestAsync(context, "Upgrade request required").ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the command and returns the Status the kubelet writes on the error stream: Success, NonZeroExitCode
    /// with the code as an ExitCode cause, or InternalError when it could not be run.
    /// </summary>
    public static async Task<JsonObject> RunAsync(
        ExecOptions options, Func<ExecRequest, CancellationToken, Task<int>> exec, Stream? stdin, Stream? stdout, Stream? stderr,
        ChannelReader<TerminalSize> sizes, CancellationToken cancellationToken)
    {
        int code;
        try
        {
            code = await exec(new ExecRequest
            {
                Namespace = options.Namespace,
                Pod = options.Pod,
                Container = options.Container,
                Command = options.Command,
                Tty = options.Tty,
                Stdin = stdin,
                Stdout = stdout,
                Stderr = options.Tty ? null : stderr,
                TerminalSizes = sizes,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Also when the client left (the command was killed): then the Status is never sent.
            var message = cancellationToken.IsCancellationRequested ? "the client went away" : $"error executing command in container: {ex.Message}";
            return new JsonObject
            {
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = $"Internal error occurred: {message}",
                ["reason"] = "InternalError",
                ["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = message }) },
                ["code"] = 500,
            };
        }

        return code == 0
            ? new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" }
            : new JsonObject
            {
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = $"command terminated with non-zero exit code: error executing command [{string.Join(' ', options.Command)}], exit code {code}",
                ["reason"] = "NonZeroExitCode",
                ["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) }) },
            };
    }

    private static bool IsTrue(string? value) => value is "1" or "t" or "T" or "true" or "TRUE" or "True";

    private static Task BadRequestAsync(HttpContext context, string message) =>
        KubeApiServer.WriteStatusAsync(context, 400, "BadRequest", message);
}
