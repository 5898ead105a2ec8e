using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace ClusterContext.Testing.Kube.Streaming;

/// <summary>
/// <c>GET pods/NAME/log</c> as the API server and kubelet answer it: the container's lines as text/plain,
/// with <c>timestamps</c> (RFC 3339 with nanoseconds, as the kubelet writes them), <c>tailLines</c>,
/// <c>sinceSeconds</c>/<c>sinceTime</c>, <c>limitBytes</c>, and <c>follow</c> until the client leaves, the
/// container ends or the server stops; a container the pod does not have is a 400 Status, as the server's.
/// </summary>
internal static class PodLogs
{
    public static async Task HandleAsync(HttpContext context, JsonObject pod, Func<string, string, string, ContainerLog?> logs, CancellationToken stopping)
    {
        var name = (string)pod["metadata"]!["name"]!;
        var @namespace = (string)pod["metadata"]!["namespace"]!;
        if (context.Request.Method != "GET")
        {
            await KubeApiServer.WriteStatusAsync(context, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource").ConfigureAwait(false);
            return;
        }

        var query = context.Request.Query;
        var container = query["container"].ToString();
        var containers = Names(pod, "containers");
        if (container.Length == 0)
        {
            if (containers.Count != 1)
            {
                await BadRequestAsync(context, containers.Count == 0
                    ? $"a container name must be specified for pod {name}"
                    : $"a container name must be specified for pod {name}, choose one of: [{string.Join(' ', containers)}]").ConfigureAwait(false);
                return;
            }

            container = containers[0];
        }
        else if (!containers.Contains(container) && !Names(pod, "initContainers").Contains(container) && !Names(pod, "ephemeralContainers").Contains(container))
        {
            await BadRequestAsync(context, $"container {container} is not valid for pod {name}").ConfigureAwait(false);
            return;
        }

        if (!TryReadOptions(query, out var options, out var problem))
        {
            await KubeApiServer.WriteStatusAsync(context, 422, "Invalid", $"PodLogOptions \"{name}\" is invalid: {problem}", name, "PodLogOptions").ConfigureAwait(false);
            return;
        }

        if (options.Previous)
        {
            await BadRequestAsync(context, $"previous terminated container \"{container}\" in pod \"{name}\" not found").ConfigureAwait(false);
            return;
        }

        if (logs(@namespace, name, container) is not { } log)
        {
            await BadRequestAsync(context, $"container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating").ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, log, options, stopping).ConfigureAwait(false);
    }

    private static async Task WriteAsync(HttpContext context, ContainerLog log, LogOptions options, CancellationToken stopping)
    {
        var (past, future) = log.Open(options.Follow);
        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "text/plain";
            using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            var since = options.Since;
            var lines = past.Where(l => since is null || l.Time >= since);
            if (options.TailLines is { } tail)
            {
                lines = lines.TakeLast((int)Math.Min(tail, int.MaxValue));
            }

            var budget = new ByteBudget { Left = options.LimitBytes ?? long.MaxValue };
            foreach (var line in lines)
            {
                if (!await WriteLineAsync(context, line, options.Timestamps, budget, end.Token).ConfigureAwait(false))
                {
                    return;
                }
            }

            await context.Response.Body.FlushAsync(end.Token).ConfigureAwait(false);
            if (future is null)
            {
                return;
            }

            try
            {
                await foreach (var line in future.Reader.ReadAllAsync(end.Token).ConfigureAwait(false))
                {
                    if (!await WriteLineAsync(context, line, options.Timestamps, budget, end.Token).ConfigureAwait(false))
                    {
                        return;
                    }

                    await context.Response.Body.FlushAsync(end.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The client left or the server stops: the stream just ends.
            }
        }
        finally
        {
            if (future is not null)
            {
                log.Unfollow(future);
            }
        }
    }

    /// <summary>Writes one line, cut at the byte limit; false once the limit is reached.</summary>
    private static async ValueTask<bool> WriteLineAsync(HttpContext context, ContainerLogLine line, bool timestamps, ByteBudget budget, CancellationToken cancellationToken)
    {
        if (budget.Left <= 0)
        {
            return false;
        }

        var bytes = Encoding.UTF8.GetBytes(timestamps ? $"{Timestamp(line.Time)} {line.Text}\n" : line.Text + "\n");
        var length = (int)Math.Min(bytes.Length, budget.Left);
        budget.Left -= length;
        await context.Response.Body.WriteAsync(bytes.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        return budget.Left > 0;
    }

    /// <summary>Go's RFC3339Nano in UTC: fractional seconds without trailing zeros.</summary>
    internal static string Timestamp(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var fraction = (utc.Ticks % TimeSpan.TicksPerSecond).ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
        return utc.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + (fraction.Length > 0 ? "." + fraction : "") + "Z";
    }

    private static bool TryReadOptions(IQueryCollection query, out LogOptions options, out string problem)
    {
        options = new LogOptions(
            IsTrue(query["follow"]), IsTrue(query["previous"]), IsTrue(query["timestamps"]), null, null, null);
        problem = "";
        if (query["tailLines"].ToString() is { Length: > 0 } tail)
        {
            if (!long.TryParse(tail, NumberStyles.Integer, CultureInfo.InvariantCulture, out var lines) || lines < 0)
            {
                problem = "tailLines: Invalid value: " + tail + ": must be greater than or equal to 0";
                return false;
            }

            options = options with { TailLines = lines };
        }

        if (query["limitBytes"].ToString() is { Length: > 0 } limit)
        {
            if (!long.TryParse(limit, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) || bytes < 1)
            {
                problem = "limitBytes: Invalid value: " + limit + ": must be greater than 0";
                return false;
            }

            options = options with { LimitBytes = bytes };
        }

        var sinceSeconds = query["sinceSeconds"].ToString();
        var sinceTime = query["sinceTime"].ToString();
        if (sinceSeconds.Length > 0 && sinceTime.Length > 0)
        {
            problem = "sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified";
            return false;
        }

        if (sinceSeconds.Length > 0)
        {
            if (!long.TryParse(sinceSeconds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) || seconds < 1)
            {
                problem = "sinceSeconds: Invalid value: " + sinceSeconds + ": must be greater than 0";
                return false;
            }

            options = options with { Since = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(seconds) };
        }

        if (sinceTime.Length > 0)
        {
            if (!DateTimeOffset.TryParse(sinceTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                problem = "sinceTime: Invalid value: \"" + sinceTime + "\": must be an RFC 3339 time";
                return false;
            }

            options = options with { Since = time };
        }

        return true;
    }

    private static bool IsTrue(string? value) => value is "1" or "t" or "T" or "true" or "TRUE" or "True";

    private static List<string> Names(JsonObject pod, string list) =>
        [.. (pod["spec"]?[list]?.AsArray() ?? []).Select(c => (string?)c?["name"] ?? "")];

    private static Task BadRequestAsync(HttpContext context, string message) =>
        KubeApiServer.WriteStatusAsync(context, 400, "BadRequest", message);

    private sealed class ByteBudget
    {
        public long Left { get; set; }
    }

    private sealed record LogOptions(bool Follow, bool Previous, bool Timestamps, long? TailLines, long? LimitBytes, DateTimeOffset? Since);
}
